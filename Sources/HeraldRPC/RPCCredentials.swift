public import GRPCCore
public import GRPCNIOTransportHTTP2
public import HeraldCore
import Metrics

/// How the roles prove to each other that a call comes from the deployment (`[rpc] secret`).
///
/// Every call a Herald role makes carries `authorization: Bearer <secret>`; every call a Herald
/// listener receives must carry it, compared in constant time, or is answered `permissionDenied`
/// and counted in `herald_rpc_refused_total`. `admitWithoutSecret` (`[rpc] insecure`) also lets
/// in calls that carry no credentials at all, as goim's own job and comet send them, for a
/// migration from goim; a wrong secret is refused even then.
///
/// With `tls` (`[rpc] tls = true`) the connections between roles are mutual TLS as well: each role
/// presents the `[tls]` certificate and accepts only peers whose certificate `[rpc] ca_file`
/// signed — encrypted, and authenticated by certificate.
public struct RPCCredentials: Sendable, Equatable {
    /// The shared secret; nil sends none and checks none (loopback-only listeners).
    public var secret: String?
    /// Accept calls that carry no `authorization` metadata.
    public var admitWithoutSecret: Bool
    /// Mutual TLS between the roles; nil: plain HTTP/2.
    public var tls: MutualTLS?

    /// PEM files: this role's certificate chain and key, and the certificates that sign its peers'.
    public struct MutualTLS: Sendable, Equatable {
        public var certificateFile: String
        public var privateKeyFile: String
        public var trustedFile: String

        public init(certificateFile: String, privateKeyFile: String, trustedFile: String) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.trustedFile = trustedFile
        }
    }

    public init(secret: String? = nil, admitWithoutSecret: Bool = false, tls: MutualTLS? = nil) {
        self.secret = secret.flatMap { $0.isEmpty ? nil : $0 }
        self.admitWithoutSecret = admitWithoutSecret
        self.tls = tls
    }

    /// No secret sent, none checked.
    public static let none = RPCCredentials()

    /// Whether a listener with these credentials authenticates its callers.
    public var authenticatesCallers: Bool { (secret != nil || tls != nil) && !admitWithoutSecret }

    /// How a listener secures its connections.
    var serverSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        guard let tls else { return .plaintext }
        return .mTLS(
            certificateChain: [.file(path: tls.certificateFile, format: .pem)],
            privateKey: .file(path: tls.privateKeyFile, format: .pem)
        ) { config in
            config.trustRoots = .certificates([.file(path: tls.trustedFile, format: .pem)])
            // Trust is "signed by the deployment's certificates", whatever address a peer has.
            config.clientCertificateVerification = .noHostnameVerification
        }
    }

    /// A client's transport settings: with mutual TLS the `:authority` (and so the TLS server name)
    /// is a fixed name, since peers are addressed by IP and an IP cannot be a TLS server name;
    /// hostnames are not verified, the certificate's signer is.
    var clientConfig: HTTP2ClientTransport.Posix.Config {
        var config = HTTP2ClientTransport.Posix.Config.defaults
        // Peers of one deployment: a lost connection is tried again at least once a second (the
        // default backs off to two minutes, so a restarted logic or comet stayed unreachable long
        // after it was back).
        config.backoff = .init(initial: .milliseconds(100), max: .seconds(1), multiplier: 1.6, jitter: 0.2)
        // Compression stays off on the client side: a client that advertises gzip gets every reply
        // gzipped (a zlib stream per call on the push and connect paths). goim's Go servers answer
        // in the request's encoding, so uncompressed requests get uncompressed replies.
        if tls != nil { config.http2.authority = "herald-rpc" }
        return config
    }

    /// How a client secures its connections.
    var clientSecurity: HTTP2ClientTransport.Posix.TransportSecurity {
        guard let tls else { return .plaintext }
        return .mTLS(
            certificateChain: [.file(path: tls.certificateFile, format: .pem)],
            privateKey: .file(path: tls.privateKeyFile, format: .pem)
        ) { config in
            config.trustRoots = .certificates([.file(path: tls.trustedFile, format: .pem)])
            config.serverCertificateVerification = .noHostnameVerification
        }
    }

    static let metadataKey = "authorization"

    var clientInterceptors: [any ClientInterceptor] {
        guard let secret else { return [] }
        return [SecretAttacher(value: "Bearer \(secret)")]
    }

    var serverInterceptors: [any ServerInterceptor] {
        guard let secret else { return [] }
        return [SecretCheck(expected: Array("Bearer \(secret)".utf8), admitWithoutSecret: admitWithoutSecret)]
    }

    /// Adds the secret to every outgoing call.
    struct SecretAttacher: ClientInterceptor {
        let value: String

        func intercept<Input: Sendable, Output: Sendable>(
            request: StreamingClientRequest<Input>,
            context: ClientContext,
            next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
        ) async throws -> StreamingClientResponse<Output> {
            var request = request
            request.metadata.replaceOrAddString(value, forKey: RPCCredentials.metadataKey)
            return try await next(request, context)
        }
    }

    /// Refuses every incoming call without the secret before it reaches a service.
    struct SecretCheck: ServerInterceptor {
        let expected: [UInt8]
        let admitWithoutSecret: Bool
        static let refused = Counter(label: "herald_rpc_refused_total")

        func intercept<Input: Sendable, Output: Sendable>(
            request: StreamingServerRequest<Input>,
            context: ServerContext,
            next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
        ) async throws -> StreamingServerResponse<Output> {
            let presented = Array(request.metadata[stringValues: RPCCredentials.metadataKey])
            if presented.isEmpty && admitWithoutSecret { return try await next(request, context) }
            guard presented.count == 1, ConstantTime.equal(presented[0].utf8, expected) else {
                Self.refused.increment()
                return StreamingServerResponse(
                    error: RPCError(code: .permissionDenied, message: "rpc secret: the call carries no valid [rpc] secret")
                )
            }
            return try await next(request, context)
        }
    }
}
