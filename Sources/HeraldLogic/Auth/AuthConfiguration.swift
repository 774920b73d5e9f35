public import HeraldCore

/// `[logic.auth]`: how client tokens are verified.
public struct AuthConfiguration: Sendable {
    /// `none` (goim's: trust the JSON token), `jwt`, or `http` (ask a backend).
    public var mode: String
    public var jwtAlgorithm: String
    public var jwtSecret: String?
    public var jwtPublicKeyFile: String?
    public var jwtIssuer: String?
    /// When set, a token's `aud` claim must include it.
    public var jwtAudience: String?
    /// `http` mode: the backend URL, how long to wait for it, and the Authorization header sent to it.
    public var httpURL: String?
    public var httpTimeout: Duration = .seconds(2)
    public var httpAuthorization: String?

    public init() {
        mode = "none"
        jwtAlgorithm = "HS256"
    }

    public init(table: ConfigTable) throws(ConfigError) {
        mode = try table.choice("mode", default: "none", allowed: ["none", "jwt", "http"])
        jwtAlgorithm = try table.choice("jwt_algorithm", default: "HS256", allowed: ["HS256", "RS256"])
        jwtSecret = try table.string("jwt_secret")
        jwtPublicKeyFile = try table.string("jwt_public_key_file")
        jwtIssuer = try table.string("jwt_issuer")
        jwtAudience = try table.string("jwt_audience").flatMap { $0.isEmpty ? nil : $0 }
        httpURL = try table.string("http_url")
        httpTimeout = try table.duration("http_timeout", default: httpTimeout)
        httpAuthorization = try table.string("http_authorization")
    }

    /// The verifier this configuration names.
    public func makeVerifier() throws(ConfigError) -> any TokenVerifier {
        switch mode {
        case "jwt": try JWTVerifier(configuration: self)
        case "http": try HTTPVerifier(configuration: self)
        default: TrustingVerifier()
        }
    }
}
