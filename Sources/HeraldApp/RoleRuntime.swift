public import HeraldCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
public import UnixSignals

/// A Herald process as its subcommand drives it: `herald serve`, `comet`, `logic` and `job` each
/// build one, run it until a signal and hand it each re-read configuration on SIGHUP.
public protocol RoleProcess: Sendable {
    /// Runs until cancelled or, with `signals`, until one arrives; then shuts down in order.
    func run(gracefulShutdownSignals signals: [UnixSignal]) async throws
    /// Applies a re-read configuration; every changed key is reported as applied or as needing a
    /// restart. Throws, applying nothing, on an unknown key or an invalid value.
    func reload(_ next: HeraldConfiguration) async throws -> ReloadReport
    /// Stops the process as SIGTERM would.
    func shutdown() async
}

/// What every role process shares, so each role states only its services, its clean-up and its
/// live settings: the service group (shut down in reverse order of `services`), the
/// configuration as last applied, the reload that refuses unknown keys, applies the role's
/// live settings and reports every changed key, and the release of its resources.
final class RoleRuntime: Sendable {
    let logger: Logger
    /// The running group, and whether a shutdown was asked for (also before `run` began: the
    /// group then shuts down as soon as it starts).
    private let group = NIOLockedValueBox<(running: ServiceGroup?, stopping: Bool)>((nil, false))
    private let applied: NIOLockedValueBox<HeraldConfiguration>
    /// The configuration keys the role and its plugins asked for at start-up.
    private let knownKeys: Set<String>
    /// What the role is built from.
    private let shape: Shape
    /// The plugins a section may be named after.
    private let plugins: PluginRegistry
    /// Released after the services stopped (or when the role's initializer fails here).
    private let resources: RoleResources

    /// Which parts of a configuration a role uses.
    struct Shape: Sendable {
        /// The role calls or serves gRPC (a changed secret file needs a restart).
        var usesRPC: Bool
        /// The role builds the transports (the comet does); the others leave the transport
        /// sections of a file they share with comets to the comets to judge.
        var buildsTransports: Bool
        /// The top-level sections the role reads; a reload leaves changes elsewhere out of its
        /// report (they are another process's). nil: all of them.
        var sections: Set<String>?

        static let allInOne = Shape(
            usesRPC: false, buildsTransports: true,
            sections: ["server", "log", "comet", "logic", "job", "queue", "router", "tls", "transport", "history", "metrics"])
        static let comet = Shape(
            usesRPC: true, buildsTransports: true,
            sections: ["server", "log", "comet", "rpc", "registry", "tls", "transport", "router", "history", "metrics"])
        static let logic = Shape(
            usesRPC: true, buildsTransports: false,
            sections: ["server", "log", "logic", "queue", "rpc", "registry", "tls", "router", "history", "metrics"])
        static let job = Shape(
            usesRPC: true, buildsTransports: false, sections: ["server", "log", "job", "queue", "rpc", "registry", "router", "metrics"])
    }

    /// Call it last in a role's initializer, once every plugin has read its settings: it refuses
    /// the keys of `configuration` that nobody asked for (the role's `resources` builder then
    /// releases what was built). Once it accepts, the runtime releases them after `run`.
    init(
        configuration: HeraldConfiguration, shape: Shape, plugins: PluginRegistry, resources: RoleResources.Builder, logger: Logger
    ) throws(ConfigError) {
        self.logger = logger
        self.shape = shape
        self.plugins = plugins
        self.applied = NIOLockedValueBox(configuration)
        Self.prepare(configuration, shape)
        try configuration.refuseUnknownPluginSections(plugins)
        self.knownKeys = try configuration.refuseUnknownKeys(logger: logger)
        // Accepted: the resources are the runtime's to release from now on.
        self.resources = resources.finish()
    }

    /// A role without transports accepts the transport sections unread.
    private static func prepare(_ configuration: HeraldConfiguration, _ shape: Shape) {
        guard !shape.buildsTransports else { return }
        for entry in configuration.transports { entry.table.acceptUnread() }
    }

    /// Runs `services` as one group, shut down in reverse order. The metrics listener, if any,
    /// runs first so it stops last: a draining process can still be scraped. Once the group
    /// ended — `failed` first when it threw — `cleanUp` runs, then the resources are released.
    func run(
        _ services: [any Service],
        metrics: (any Service)?,
        signals: [UnixSignal],
        failed: (any Error) -> Void = { _ in },
        cleanUp: () async -> Void = {}
    ) async throws {
        let all = (metrics.map { [$0] } ?? []) + services
        let group = ServiceGroup(
            configuration: .init(
                services: all.map { .init(service: $0) }, gracefulShutdownSignals: signals, cancellationSignals: [], logger: logger
            )
        )
        let stopping = self.group.withLockedValue { state in
            state.running = group
            return state.stopping
        }
        if stopping { await group.triggerGracefulShutdown() }
        do {
            try await group.run()
        } catch {
            logger.error("the process stops: \(error)")
            failed(error)
            await cleanUp()
            await resources.release()
            throw error
        }
        await cleanUp()
        await resources.release()
    }

    func shutdown() async {
        let running = group.withLockedValue { state in
            state.stopping = true
            return state.running
        }
        await running?.triggerGracefulShutdown()
    }

    /// Refuses `next` if it sets an unknown key; otherwise runs `apply` (given the configuration
    /// running until now; it returns the keys it applies live) and reports every changed key.
    func reload(_ next: HeraldConfiguration, apply: (HeraldConfiguration) async throws -> [String]) async throws -> ReloadReport {
        let current = applied.withLockedValue { $0 }
        Self.prepare(next, shape)
        try next.refuseUnknownPluginSections(plugins)
        try next.refuseUnknownKeys(alsoKnown: knownKeys, logger: logger)
        let live = try await apply(current)
        applied.withLockedValue { $0 = next }
        return LiveReload.report(current: current, next: next, live: live, rpc: shape.usesRPC, sections: shape.sections, logger: logger)
    }
}
