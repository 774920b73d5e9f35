public import HeraldCore
import HeraldJob
public import HeraldLogic
import HeraldProtocol
import HeraldRPC
import HeraldTLS
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import ServiceLifecycle
public import UnixSignals

/// `herald logic`: the logic role as its own process. Serves the HTTP push API and
/// `goim.logic.Logic` (gRPC) for comets, keeps sessions in the `[router]` (redis), publishes to the
/// `[queue]`, and reads the comet registry for `/goim/nodes/*` and online status.
public final class LogicRoleServer: RoleProcess {
    public struct Addresses: Sendable {
        public var api: SocketAddress?
        /// The `goim.logic.Logic` listener, `host:port`.
        public var rpc: String
    }

    public let configuration: HeraldConfiguration
    public let logic: Logic
    let queue: any QueueBackend
    let router: any SessionRouter
    let watcher: RegistryWatcher
    let rpc: RPCServerService
    let tls: TLSContextSource?
    let eventLoopGroup: MultiThreadedEventLoopGroup
    let logger: Logger
    private let metricsText: (@Sendable () -> [UInt8])?
    private let ready = ReadyLatch<Addresses>()
    private let runtime: RoleRuntime
    /// Where pushes are kept for clients that were away (nil: `[history]` is off).
    let history: (any HistoryStore)?

    public init(
        configuration: HeraldConfiguration,
        registry plugins: PluginRegistry = BuiltInPlugins.registry(),
        logger: Logger,
        metricsText: (@Sendable () -> [UInt8])? = nil
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.metricsText = metricsText
        eventLoopGroup = RoleSupport.eventLoopGroup(configuration)
        let built = RoleResources.Builder(eventLoopGroup: eventLoopGroup)
        router = built.keep(try RoleSupport.registryRouter(configuration, plugins: plugins, logger: logger))
        watcher = RoleSupport.registryWatcher(configuration, router: router, logger: logger)
        queue = built.keep(try HeraldServer.makeQueue(configuration, registry: plugins, logger: logger))
        history = built.keep(try RoleSupport.sharedHistoryStore(configuration, plugins: plugins, logger: logger))
        logic = try Logic(
            configuration: configuration.logic, router: router, queue: queue, comets: watcher,
            history: history, historySettings: configuration.history, logger: logger
        )
        tls = try TLSContextSource.make(configuration.tls)
        rpc = try RPCServerService(
            listen: configuration.cluster.listen ?? "127.0.0.1:3119",
            services: [LogicRPCService(logic: logic)],
            credentials: configuration.cluster.credentials
        )
        runtime = try RoleRuntime(
            configuration: configuration, shape: .logic, plugins: plugins,
            resources: built, logger: logger
        )
    }

    public func addresses() async throws -> Addresses { try await ready.wait() }

    public func run(gracefulShutdownSignals signals: [UnixSignal] = []) async throws {
        let registry = router as? any ProcessRegistry
        let cluster = registry.map { registry in
            ConsoleCluster(
                selfKey: ProcessNode(
                    id: configuration.serverID, role: "logic", version: "", startedAtMillis: 0, renewedAtMillis: 0, metricsAddress: ""
                )
                .key,
                selfMetrics: configuration.metrics.advertised, processes: { try await registry.registeredProcesses() },
                metricsToken: configuration.metrics.token)
        }
        let api = RoleSupport.api(
            logic, configuration, eventLoopGroup: eventLoopGroup, tls: tls, metricsText: metricsText, role: "logic", cluster: cluster,
            logger: logger)
        let announce = Announce(rpc: rpc, apiBound: api.bound, ready: ready, logger: logger)
        try await runtime.run(
            [watcher, rpc, api.service, announce] + RoleSupport.announcer(configuration, role: "logic", router: router, logger: logger),
            metrics: MetricsListener.make(configuration.metrics, text: metricsText, eventLoopGroup: eventLoopGroup, logger: logger),
            signals: signals, failed: { ready.fail($0) }
        )
    }

    /// Applies a re-read configuration (SIGHUP): token verification (`[logic.auth]`), the queue's
    /// reloadable settings (a migration's phase on the publishing side), the log level and the TLS
    /// files' contents change live; every changed key is reported (and logged) as applied or as
    /// needing a restart.
    @discardableResult
    public func reload(_ next: HeraldConfiguration) async throws -> ReloadReport {
        try await runtime.reload(next) { current in
            try await LiveReload.applyLogicSettings(current: current, next: next, logic: logic, tls: tls, queue: queue)
        }
    }

    public func shutdown() async {
        await runtime.shutdown()
    }

    /// Publishes the bound addresses once the API and the gRPC server listen.
    private struct Announce: Service {
        let rpc: RPCServerService
        let apiBound: ReadyLatch<SocketAddress?>
        let ready: ReadyLatch<Addresses>
        let logger: Logger

        func run() async throws {
            let api = try await apiBound.wait()
            let rpcAddress = try await rpc.boundAddress()
            logger.info("herald logic ready", metadata: ["api": "\(api.map { "\($0)" } ?? "-")", "rpc": "\(rpcAddress)"])
            ready.publish(Addresses(api: api, rpc: rpcAddress))
            try? await gracefulShutdown()
        }
    }
}
