public import HeraldComet
public import HeraldCore
import HeraldRPC
import HeraldTLS
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import ServiceLifecycle
public import UnixSignals

/// `herald comet`: the comet role as its own process. Holds the client connections of its
/// transports, calls logic over gRPC (`goim.logic.Logic`), serves `goim.comet.Comet` for job, and
/// registers itself (with a time to live, renewed) in the session store's comet registry.
public final class CometRoleServer: RoleProcess {
    public struct Addresses: Sendable {
        public var transports: [String: [SocketAddress]]
        /// The `goim.comet.Comet` listener, `host:port`.
        public var rpc: String
    }

    public let configuration: HeraldConfiguration
    public let comet: Comet
    let logic: ReloadableLogicClient
    let tls: TLSContextSource?
    let transports: [any Transport]
    let rpc: RPCServerService
    let registry: any CometRegistry
    let router: any SessionRouter
    let eventLoopGroup: MultiThreadedEventLoopGroup
    let logger: Logger
    private let ready = ReadyLatch<Addresses>()
    private let runtime: RoleRuntime
    /// What recovering clients replay from (nil: `[history]` is off).
    let history: (any HistoryStore)?
    /// `GET /metrics` on `[metrics] listen` (nil: not configured).
    let metrics: (any Service)?

    public init(
        configuration: HeraldConfiguration, registry plugins: PluginRegistry = BuiltInPlugins.registry(), logger: Logger,
        metricsText: (@Sendable () -> [UInt8])? = nil
    ) throws {
        eventLoopGroup = RoleSupport.eventLoopGroup(configuration)
        let built = RoleResources.Builder(eventLoopGroup: eventLoopGroup)
        self.configuration = configuration
        self.logger = logger
        router = built.keep(try RoleSupport.registryRouter(configuration, plugins: plugins, logger: logger))
        registry = router as! any CometRegistry
        logic = built.keep(
            try ReloadableLogicClient(
                addresses: configuration.cluster.logic,
                policy: configuration.cluster.policy,
                credentials: configuration.cluster.credentials
            ))
        history = built.keep(try RoleSupport.sharedHistoryStore(configuration, plugins: plugins, logger: logger))
        comet = Comet(
            configuration: configuration.comet, logic: logic, eventLoopGroup: eventLoopGroup,
            history: history, historySettings: configuration.history, logger: logger
        )
        let tls = try TLSContextSource.make(configuration.tls)
        self.tls = tls
        transports = try TransportService.makeTransports(
            configuration, registry: plugins, eventLoopGroup: eventLoopGroup, security: tls, logger: logger)
        rpc = try RPCServerService(
            listen: configuration.cluster.listen ?? "127.0.0.1:3109",
            services: [CometRPCService(comet: comet)],
            credentials: configuration.cluster.credentials
        )
        metrics = MetricsListener.make(configuration.metrics, text: metricsText, eventLoopGroup: eventLoopGroup, logger: logger)
        runtime = try RoleRuntime(
            configuration: configuration, shape: .comet, plugins: plugins,
            resources: built, logger: logger
        )
    }

    public func addresses() async throws -> Addresses { try await ready.wait() }

    public func run(gracefulShutdownSignals signals: [UnixSignal] = []) async throws {
        let rpc = self.rpc
        let ready = self.ready
        let bound = ReadyLatch<[String: [SocketAddress]]>()
        let front = TransportService(
            comet: comet,
            entries: configuration.transports,
            transports: transports,
            drainWindow: configuration.comet.drainWindow,
            started: { bound.publish($0) }
        )
        let registration = Registration(server: self, bound: bound, ready: ready)
        // Shutdown runs in reverse: deregister (job stops pushing here), stop the gRPC server,
        // drain the connections, stop the comet's timers.
        try await runtime.run(
            [comet, front, rpc, registration] + RoleSupport.announcer(configuration, role: "comet", router: router, logger: logger),
            metrics: metrics, signals: signals, failed: { ready.fail($0) },
            // The logic client closes with the other resources, once the calls in flight finished.
            cleanUp: { [comet] in await comet.logicCallsFinished(timeout: .seconds(5)) }
        )
    }

    /// Applies a re-read configuration (SIGHUP): the logic addresses (`[rpc] logic`), the
    /// connection and room limits, the log level and the TLS files' contents change live; every
    /// changed key is reported (and logged) as applied or as needing a restart.
    @discardableResult
    public func reload(_ next: HeraldConfiguration) async throws -> ReloadReport {
        try await runtime.reload(next) { current in
            // The steps that can fail come first: the certificate files, the logic addresses.
            try LiveReload.rereadCertificates(next: next, tls: tls)
            if try await logic.use(next.cluster.logic) {
                logger.notice("logic addresses changed", metadata: ["rpc.logic": "\(next.cluster.logic.joined(separator: ","))"])
            }
            LiveReload.applyLogLevel(current: current, next: next)
            comet.applyLimits(next.comet)
            return LiveReload.logKeys + LiveReload.cometLimitKeys + ["rpc.logic"]
        }
    }

    public func shutdown() async {
        await runtime.shutdown()
    }

    /// This comet's registry entry now.
    func node(rpcAddress: String) -> CometNode {
        let c = configuration.comet
        return CometNode(
            id: c.serverID,
            addresses: c.publicAddresses,
            weight: c.weight,
            connectionCount: comet.connectionCount,
            ipCount: comet.ipCount,
            rpcAddress: rpcAddress,
            version: HeraldVersion.current,
            startedAtMillis: comet.startedAtMillis,
            renewedAtMillis: HeraldVersion.millis()
        )
    }

    /// Registers the comet once its listeners are up and renews the entry every interval;
    /// deregisters on shutdown.
    private struct Registration: Service {
        let server: CometRoleServer
        let bound: ReadyLatch<[String: [SocketAddress]]>
        let ready: ReadyLatch<Addresses>

        func run() async throws {
            let transports = try await bound.wait()
            let listening = try await server.rpc.boundAddress()
            let cluster = server.configuration.cluster
            let advertised = cluster.advertise ?? listening
            let registry = server.registry
            let logger = server.logger
            await cancelWhenGracefulShutdown {
                var registered = false
                while !Task.isCancelled {
                    do {
                        try await registry.register(server.node(rpcAddress: advertised), ttl: cluster.registryTTL)
                        if !registered {
                            registered = true
                            logger.info("comet registered", metadata: ["comet.id": "\(server.comet.serverID)", "rpc": "\(advertised)"])
                            ready.publish(Addresses(transports: transports, rpc: listening))
                        }
                    } catch {
                        logger.warning("registering the comet failed; retrying", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: cluster.registryInterval)
                }
            }
            try? await registry.deregister(id: server.comet.serverID)
        }
    }
}
