public import HeraldCore
import HeraldJob
public import Logging
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle
public import UnixSignals

/// `herald job`: the job role as its own process. Consumes the `[queue]` and pushes each message to
/// the comets of the registry over gRPC (`goim.comet.Comet`), batching room messages as goim does.
public final class JobRoleServer: RoleProcess {
    public let configuration: HeraldConfiguration
    let queue: any QueueBackend
    let router: any SessionRouter
    let watcher: RegistryWatcher
    let job: Job
    let logger: Logger
    private let runtime: RoleRuntime
    /// `GET /metrics` on `[metrics] listen` (nil: not configured).
    let metrics: (any Service)?

    public init(
        configuration: HeraldConfiguration, registry plugins: PluginRegistry = BuiltInPlugins.registry(), logger: Logger,
        metricsText: (@Sendable () -> [UInt8])? = nil
    ) throws {
        self.configuration = configuration
        self.logger = logger
        let built = RoleResources.Builder(eventLoopGroup: nil)
        router = built.keep(try RoleSupport.registryRouter(configuration, plugins: plugins, logger: logger))
        watcher = RoleSupport.registryWatcher(configuration, router: router, logger: logger)
        queue = built.keep(try HeraldServer.makeQueue(configuration, registry: plugins, logger: logger))
        job = Job(configuration: configuration.job, queue: queue, comets: watcher, logger: logger)
        // The job has no event loops of its own: the listener runs on NIO's shared ones.
        metrics = MetricsListener.make(
            configuration.metrics, text: metricsText, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
        runtime = try RoleRuntime(
            configuration: configuration, shape: .job, plugins: plugins, resources: built, logger: logger
        )
    }

    public func run(gracefulShutdownSignals signals: [UnixSignal] = []) async throws {
        // Shutdown runs in reverse: the job finishes what it consumed, then the comet clients close.
        try await runtime.run(
            [watcher, job] + RoleSupport.announcer(configuration, role: "job", router: router, logger: logger), metrics: metrics,
            signals: signals)
    }

    /// Applies a re-read configuration (SIGHUP): the queue's reloadable settings (a migration's
    /// phase on the consuming side) and the log level change live; every changed key is reported
    /// (and logged) as applied or as needing a restart.
    @discardableResult
    public func reload(_ next: HeraldConfiguration) async throws -> ReloadReport {
        try await runtime.reload(next) { current in
            let queueLive = try await LiveReload.applyQueue(current: current, next: next, queue: queue)
            LiveReload.applyLogLevel(current: current, next: next)
            return LiveReload.logKeys + queueLive
        }
    }

    public func shutdown() async {
        await runtime.shutdown()
    }
}
