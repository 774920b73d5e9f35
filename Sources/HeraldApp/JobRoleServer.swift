public import HeraldCore
import HeraldJob
public import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
public import UnixSignals

/// `herald job`: the job role as its own process. Consumes the `[queue]` and pushes each message to
/// the comets of the registry over gRPC (`goim.comet.Comet`), batching room messages as goim does.
public final class JobRoleServer: Sendable {
    public let configuration: HeraldConfiguration
    let queue: any QueueBackend
    let router: any SessionRouter
    let watcher: RegistryWatcher
    let job: Job
    let logger: Logger
    private let group = NIOLockedValueBox<ServiceGroup?>(nil)
    private let applied: NIOLockedValueBox<HeraldConfiguration>
    /// The configuration keys the role and its plugins asked for at start-up.
    private let knownKeys: Set<String>

    public init(configuration: HeraldConfiguration, registry plugins: PluginRegistry = BuiltInPlugins.registry(), logger: Logger) throws {
        self.configuration = configuration
        applied = NIOLockedValueBox(configuration)
        self.logger = logger
        router = try RoleSupport.registryRouter(configuration, plugins: plugins, logger: logger)
        watcher = RegistryWatcher(
            registry: router as! any CometRegistry,
            interval: configuration.cluster.registryInterval,
            ttl: configuration.cluster.registryTTL,
            policy: configuration.cluster.policy,
            credentials: configuration.cluster.credentials,
            logger: logger
        )
        queue = try HeraldServer.makeQueue(configuration, registry: plugins, logger: logger)
        job = Job(configuration: configuration.job, queue: queue, comets: watcher, logger: logger)
        // This process builds no transport: a file shared with the comets keeps theirs unjudged.
        for entry in configuration.transports { entry.table.acceptUnread() }
        knownKeys = try configuration.refuseUnknownKeys(logger: logger)
    }

    public func run(gracefulShutdownSignals signals: [UnixSignal] = []) async throws {
        // Shutdown runs in reverse: the job finishes what it consumed, then the comet clients close.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: watcher), .init(service: job)],
                gracefulShutdownSignals: signals,
                cancellationSignals: [],
                logger: logger
            )
        )
        self.group.withLockedValue { $0 = group }
        do {
            try await group.run()
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }

    /// Applies a re-read configuration (SIGHUP): the queue's reloadable settings (a migration's
    /// phase on the consuming side) and the log level change live; every changed key is reported
    /// (and logged) as applied or as needing a restart.
    @discardableResult
    public func reload(_ next: HeraldConfiguration) async throws -> ReloadReport {
        let current = applied.withLockedValue { $0 }
        try next.refuseUnknownKeys(alsoKnown: knownKeys, logger: logger)
        let queueLive = try await LiveReload.applyQueue(current: current, next: next, queue: queue)
        LiveReload.applyLogLevel(current: current, next: next)
        applied.withLockedValue { $0 = next }
        return LiveReload.report(current: current, next: next, live: LiveReload.logKeys + queueLive, rpc: true, logger: logger)
    }

    public func shutdown() async {
        await group.withLockedValue { $0 }?.triggerGracefulShutdown()
    }

    private func cleanUp() async {
        await queue.shutdown()
        await router.shutdown()
    }
}
