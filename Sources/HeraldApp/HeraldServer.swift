public import HeraldComet
public import HeraldCore
import HeraldJob
public import HeraldLogic
import HeraldTLS
import Hummingbird
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import ServiceLifecycle
public import UnixSignals

/// The all-in-one gateway (`herald serve`): comet, logic and job in one process, roles calling each
/// other directly, plugins chosen by configuration.
public final class HeraldServer: RoleProcess {
    /// Where the server listens once started.
    public struct Addresses: Sendable {
        /// Bound addresses per transport instance name.
        public var transports: [String: [SocketAddress]]
        /// The HTTP API.
        public var api: SocketAddress?
    }

    public let configuration: HeraldConfiguration
    public let comet: Comet
    public let logic: Logic
    public let queue: any QueueBackend
    public let router: any SessionRouter
    /// The history store (nil: `[history]` is off).
    public let history: (any HistoryStore)?
    let job: Job
    let transports: [any Transport]
    let eventLoopGroup: any EventLoopGroup
    let ownsEventLoopGroup: Bool
    public let logger: Logger
    private let metricsText: (@Sendable () -> [UInt8])?
    private let ready = ReadyLatch<Addresses>()
    /// The TLS context of every `tls = true` listener (nil without `[tls]`).
    let tls: TLSContextSource?
    private let runtime: RoleRuntime

    /// Builds every role and plugin. Throws on an unknown plugin name (listing the registered ones)
    /// or an invalid setting, before anything listens.
    public init(
        configuration: HeraldConfiguration,
        registry: PluginRegistry = BuiltInPlugins.registry(),
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger? = nil,
        metricsText: (@Sendable () -> [UInt8])? = nil
    ) throws {
        self.configuration = configuration
        self.metricsText = metricsText
        let tls = try TLSContextSource.make(configuration.tls)
        self.tls = tls
        var defaultLogger = Logger(label: "herald")
        defaultLogger.logLevel = configuration.logLevel
        let logger = logger ?? defaultLogger
        self.logger = logger
        if let eventLoopGroup {
            self.eventLoopGroup = eventLoopGroup
            self.ownsEventLoopGroup = false
        } else {
            self.eventLoopGroup = RoleSupport.eventLoopGroup(configuration)
            self.ownsEventLoopGroup = true
        }
        let built = RoleResources.Builder(eventLoopGroup: ownsEventLoopGroup ? self.eventLoopGroup : nil)
        let queue = built.keep(try Self.makeQueue(configuration, registry: registry, logger: logger))
        let router = built.keep(
            try registry.makeRouter(
                plugin: configuration.routerPlugin,
                context: RouterContext(
                    name: configuration.routerPlugin, config: configuration.routerTable, logger: logger, registry: registry)
            ))
        let directory = LocalCometDirectory()
        let history = built.keep(try configuration.makeHistoryStore(registry: registry, logger: logger))
        self.history = history
        let logic = try Logic(
            configuration: configuration.logic, router: router, queue: queue, comets: directory,
            history: history, historySettings: configuration.history, logger: logger
        )
        let comet = Comet(
            configuration: configuration.comet, logic: logic, eventLoopGroup: self.eventLoopGroup,
            history: history, historySettings: configuration.history, logger: logger
        )
        directory.set(comet: comet)
        self.queue = queue
        self.router = router
        self.logic = logic
        self.comet = comet
        self.job = Job(configuration: configuration.job, queue: queue, comets: directory, logger: logger)
        self.transports = try TransportService.makeTransports(
            configuration, registry: registry, eventLoopGroup: self.eventLoopGroup, security: tls, logger: logger)
        runtime = try RoleRuntime(
            configuration: configuration, shape: .allInOne, plugins: registry,
            resources: built, logger: logger
        )
        logger.info(
            "herald configured",
            metadata: [
                "server.id": "\(configuration.serverID)",
                "queue": "\(queue.name) (\(queue.guarantees))",
                "router": "\(router.name)",
                "transports": "\(configuration.transports.map { "\($0.name)=\($0.plugin)" }.joined(separator: ","))",
            ]
        )
    }

    /// One backend, or one per message class when `[queue] push/room/broadcast` name different plugins.
    static func makeQueue(_ configuration: HeraldConfiguration, registry: PluginRegistry, logger: Logger) throws -> any QueueBackend {
        let classes = configuration.queueClasses
        let plugins = Set([classes.push, classes.room, classes.broadcast])
        func make(_ plugin: String) throws -> any QueueBackend {
            try registry.makeQueue(
                plugin: plugin,
                context: QueueContext(
                    name: plugin, config: configuration.queueTables[plugin] ?? ConfigTable(), logger: logger, registry: registry)
            )
        }
        guard plugins.count > 1 else { return try make(classes.push) }
        var backends: [String: any QueueBackend] = [:]
        for plugin in plugins.sorted() { backends[plugin] = try make(plugin) }
        return try ClassRoutedQueue(push: classes.push, room: classes.room, broadcast: classes.broadcast, backends: backends)
    }

    /// Waits until every listener is bound and returns their addresses.
    public func addresses() async throws -> Addresses { try await ready.wait() }

    /// Runs until cancelled or, with `signals`, until one arrives; then stops accepting and closes cleanly.
    public func run(gracefulShutdownSignals signals: [UnixSignal] = []) async throws {
        let metricsText = self.metricsText
        let api = RoleSupport.api(logic, configuration, eventLoopGroup: eventLoopGroup, tls: tls, metricsText: metricsText, logger: logger)
        let apiBound = api.bound
        let ready = self.ready
        let logger = self.logger
        let front = TransportService(
            comet: comet,
            entries: configuration.transports,
            transports: transports,
            drainWindow: configuration.comet.drainWindow,
            started: { bound in
                let api = try await apiBound.wait()
                logger.info("herald ready", metadata: ["api": "\(api.map { "\($0)" } ?? "-")"])
                ready.publish(Addresses(transports: bound, api: api))
            }
        )
        // Graceful shutdown runs in reverse order, each after the previous finished: the API stops
        // taking pushes, the job delivers what was accepted, then the connections are closed over
        // the drain window, then the comet's timers stop.
        try await runtime.run(
            [comet, front] + (configuration.job.enabled ? [job] : []) + [api.service],
            metrics: MetricsListener.make(configuration.metrics, text: metricsText, eventLoopGroup: eventLoopGroup, logger: logger),
            signals: signals, failed: { ready.fail($0) }
        )
    }

    /// Applies a re-read configuration (SIGHUP): what can change live is applied — token
    /// verification (`[logic.auth]`), connection and room limits, the log level, the TLS
    /// certificate files' contents, and the queue's reloadable settings such as a migration's
    /// phase. Every changed key is reported (and logged) as applied or as needing a restart. A
    /// file with an unknown key or an unusable setting is refused and nothing changes.
    @discardableResult
    public func reload(_ next: HeraldConfiguration) async throws -> ReloadReport {
        try await runtime.reload(next) { current in
            let live = try await LiveReload.applyLogicSettings(current: current, next: next, logic: logic, tls: tls, queue: queue)
            comet.applyLimits(next.comet)
            return live + LiveReload.cometLimitKeys
        }
    }

    /// Stops the server as SIGTERM would: stop accepting, close connections, drain, exit `run`.
    public func shutdown() async {
        await runtime.shutdown()
    }
}
