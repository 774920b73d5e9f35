public import HeraldCore
import NIOConcurrencyHelpers
public import NIOCore
import NIOSSL

/// The server TLS context, read from the `[tls]` files, that every TLS listener uses for its new
/// connections. ``reload()`` (SIGHUP) re-reads the files: connections opened afterwards present the
/// new certificate, open ones keep theirs. A reload that cannot read the files keeps the old context.
public final class TLSContextSource: ChannelSecurity {
    public let settings: TLSSettings
    private let context: NIOLockedValueBox<NIOSSLContext>

    /// Reads the certificate and key now; a bad file fails start-up, naming the key.
    public init(settings: TLSSettings) throws(ConfigError) {
        self.settings = settings
        self.context = NIOLockedValueBox(try Self.makeContext(settings))
    }

    /// The source for `settings`, or nil when `[tls]` is not configured.
    public static func make(_ settings: TLSSettings?) throws(ConfigError) -> TLSContextSource? {
        guard let settings else { return nil }
        return try TLSContextSource(settings: settings)
    }

    public func secure(_ channel: any Channel) throws {
        let current = context.withLockedValue { $0 }
        try channel.pipeline.syncOperations.addHandler(
            NIOSSLServerHandler(context: current), name: ChannelSecurityHandler.name, position: .first)
    }

    /// Re-reads the certificate and key files. Throws (keeping the current context) when they cannot be used.
    public func reload() throws(ConfigError) {
        let next = try Self.makeContext(settings)
        context.withLockedValue { $0 = next }
    }

    private static func makeContext(_ settings: TLSSettings) throws(ConfigError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(settings.certificateFile)
        } catch {
            throw ConfigError(
                key: "tls.certificate_file", message: "\(settings.certificateFile) is not a readable PEM certificate: \(error)")
        }
        guard !chain.isEmpty else {
            throw ConfigError(key: "tls.certificate_file", message: "\(settings.certificateFile) holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: settings.privateKeyFile, format: .pem)
        } catch {
            throw ConfigError(
                key: "tls.private_key_file", message: "\(settings.privateKeyFile) is not a readable PEM private key: \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = settings.minimumVersion == "1.3" ? .tlsv13 : .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigError(key: "tls.private_key_file", message: "the certificate and key cannot be used together: \(error)")
        }
    }
}
