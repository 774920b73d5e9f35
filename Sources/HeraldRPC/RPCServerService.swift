public import GRPCCore
public import GRPCNIOTransportHTTP2
public import HeraldCore
public import ServiceLifecycle

/// A gRPC server (HTTP/2, plain text or mutual TLS) as a service of the role's service group: it serves until
/// graceful shutdown, then finishes the calls in flight.
public final class RPCServerService: Service {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let transport: HTTP2ServerTransport.Posix

    /// Listens on `listen` (`host:port`; port 0 picks a free one) with `services`; every call
    /// must pass `credentials`. A listener that other machines can reach must authenticate its
    /// callers (a secret) or be declared open (`[rpc] insecure = true`), or it refuses to start.
    public init(listen: String, services: [any RegistrableRPCService], credentials: RPCCredentials) throws(ConfigError) {
        let (host, port) = try HostPort.parse(listen, key: "rpc.listen")
        if !LoopbackAddress.contains(host: host) && credentials.secret == nil && credentials.tls == nil && !credentials.admitWithoutSecret {
            throw ConfigError(
                key: "rpc.listen",
                message:
                    "\(listen) is reachable from other machines, and anyone who reaches it can push to every client or drop sessions: set [rpc] secret or [rpc] tls (on every role), bind to 127.0.0.1, or set [rpc] insecure = true to accept unauthenticated calls"
            )
        }
        // One connection per comet carries every connection's auth: allow many calls at once
        // (HTTP/2's usual 100 makes a connect storm queue and miss its deadlines).
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.http2.maxConcurrentStreams = 4096
        // goim's Go services compress requests with gzip (its comet's RenewOnline, for one).
        config.compression = .init(enabledAlgorithms: [.gzip, .deflate])
        transport = HTTP2ServerTransport.Posix(
            address: host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port),
            transportSecurity: credentials.serverSecurity,
            config: config
        )
        server = GRPCServer(transport: transport, services: services, interceptors: credentials.serverInterceptors)
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.serve()
        } onGracefulShutdown: {
            self.server.beginGracefulShutdown()
        }
    }

    /// The bound address as `host:port`, once listening.
    public func boundAddress() async throws -> String {
        let address = try await transport.listeningAddress
        if let v4 = address.ipv4 { return "\(v4.host):\(v4.port)" }
        if let v6 = address.ipv6 { return "[\(v6.host)]:\(v6.port)" }
        return "\(address)"
    }
}
