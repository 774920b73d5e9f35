public import HeraldCore

/// `[logic.auth]`: how client tokens are verified.
public struct AuthConfiguration: Sendable {
    /// `none` (goim's: trust the JSON token) or `jwt`.
    public var mode: String
    public var jwtAlgorithm: String
    public var jwtSecret: String?
    public var jwtPublicKeyFile: String?
    public var jwtIssuer: String?

    public init() {
        mode = "none"
        jwtAlgorithm = "HS256"
    }

    public init(table: ConfigTable) throws(ConfigError) {
        mode = try table.choice("mode", default: "none", allowed: ["none", "jwt"])
        jwtAlgorithm = try table.choice("jwt_algorithm", default: "HS256", allowed: ["HS256", "RS256"])
        jwtSecret = try table.string("jwt_secret")
        jwtPublicKeyFile = try table.string("jwt_public_key_file")
        jwtIssuer = try table.string("jwt_issuer")
    }

    /// The verifier this configuration names.
    public func makeVerifier() throws(ConfigError) -> any TokenVerifier {
        switch mode {
        case "jwt": try JWTVerifier(configuration: self)
        default: TrustingVerifier()
        }
    }
}
