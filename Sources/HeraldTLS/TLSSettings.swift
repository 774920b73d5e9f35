public import HeraldCore

/// `[tls]`: the certificate every listener with `tls = true` presents (tcp, websocket → wss,
/// long-poll, SSE, and the HTTP API with `[logic] tls = true`).
public struct TLSSettings: Sendable, Equatable {
    /// PEM file with the certificate chain, leaf first.
    public var certificateFile: String
    /// PEM file with the private key.
    public var privateKeyFile: String
    /// Oldest protocol version accepted: `1.2` or `1.3`.
    public var minimumVersion: String

    public init(certificateFile: String, privateKeyFile: String, minimumVersion: String = "1.2") {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.minimumVersion = minimumVersion
    }

    /// Reads `[tls]`; nil when it names no certificate.
    public init?(table: ConfigTable) throws(ConfigError) {
        let certificate = try table.string("certificate_file")
        let key = try table.string("private_key_file")
        let minimumVersion = try table.choice("min_version", default: "1.2", allowed: ["1.2", "1.3"])
        switch (certificate, key) {
        case (nil, nil):
            return nil
        case let (certificate?, key?):
            self.init(
                certificateFile: certificate,
                privateKeyFile: key,
                minimumVersion: minimumVersion
            )
        case (nil, _):
            throw ConfigError(key: table.keyPath("certificate_file"), message: "private_key_file is set, the certificate is missing")
        case (_, nil):
            throw ConfigError(key: table.keyPath("private_key_file"), message: "certificate_file is set, the private key is missing")
        }
    }
}
