public import HeraldCore
import HeraldPluginSupport
import HeraldTLS
public import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
public import NIOCore
import ServiceLifecycle

/// The HTTP listener of an HTTP-based transport (long-poll, SSE, your own): a Hummingbird server
/// on the transport's address, on the gateway's event loops, with optional CORS headers.
public final class HTTPTransportServer: Sendable {
    private let context: TransportContext
    private let address: ListenAddress
    private let corsOrigin: String
    private let security: (any ChannelSecurity)?
    private let task = NIOLockedValueBox<(group: ServiceGroup, run: Task<Void, any Error>)?>(nil)

    /// Reads `listen` (one address, default `defaultListen`) and `cors_origin` (`"*"`, one origin,
    /// or `""` for none) from the transport's table.
    public init(context: TransportContext, defaultListen: String) throws {
        self.context = context
        let listen = try ListenAddress.list(from: context.config, default: [defaultListen])
        guard listen.count == 1 else {
            throw ConfigError(key: context.config.keyPath("listen"), message: "\(context.name) listens on one address")
        }
        address = listen[0]
        corsOrigin = try context.config.string("cors_origin", default: "*")
        security = try context.listenerSecurity()
    }

    /// Starts serving the routes `addRoutes` adds under `path`; returns the bound address. Each
    /// socket is admitted by `acceptor` and must send each request within its request timeout
    /// (``RequestDeadlineHandler``).
    public func start(
        path: String,
        acceptor: any SessionAcceptor,
        addRoutes: (RouterGroup<TransportRequestContext>) -> Void
    ) async throws -> [SocketAddress] {
        let router = Router(context: TransportRequestContext.self)
        if !corsOrigin.isEmpty {
            router.add(middleware: CORSMiddleware(allowOrigin: corsOrigin == "*" ? .all : .custom(corsOrigin)))
        }
        addRoutes(router.group(RouterPath(path)))
        let promise = context.eventLoopGroup.any().makePromise(of: SocketAddress?.self)
        let name = context.name
        let app = Application(
            router: router,
            server: .http1(
                security: security,
                configuration: HTTP1Channel.Configuration(additionalChannelHandlers: [
                    RequestDeadlineHandler(acceptor: acceptor, transport: name)
                ])
            ),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "herald-\(context.name)"),
            onServerRunning: { channel in promise.succeed(channel.localAddress) },
            eventLoopGroupProvider: .shared(context.eventLoopGroup),
            logger: context.logger
        )
        // Its own service group, so stop() can shut it down gracefully instead of cancelling it.
        // Detached: a task would inherit the gateway's graceful shutdown (a task local) and stop
        // taking requests at once, before the drain let long-poll sessions fetch their last
        // messages and op 6; this server stops when stop() says so.
        let group = ServiceGroup(configuration: .init(services: [app], logger: context.logger))
        let running = Task.detached { try await group.run() }
        task.withLockedValue { $0 = (group, running) }
        Task {
            _ = try? await running.value
            promise.fail(ChannelError.ioOnClosedChannel)
        }
        let bound = try await promise.futureResult.get()
        context.logger.info(
            "listening",
            metadata: ["transport": "\(context.name)", "address": "\(bound.map { "\($0)" } ?? "-")", "path": "\(path)"]
        )
        return bound.map { [$0] } ?? []
    }

    /// Stops the server gracefully (open requests finish); after two seconds what is left is cancelled.
    public func stop() async {
        guard
            let (group, running) = task.withLockedValue({ t in
                defer { t = nil }
                return t
            })
        else { return }
        await group.triggerGracefulShutdown()
        let deadline = Task {
            try await Task.sleep(for: .seconds(2))
            running.cancel()
        }
        _ = try? await running.value
        deadline.cancel()
    }
}
