public import HeraldCore
public import Logging
import NIOConcurrencyHelpers
public import ServiceLifecycle
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
/// configuration as last applied, and the reload that refuses unknown keys, applies the role's
/// live settings and reports every changed key.
final class RoleRuntime: Sendable {
    let logger: Logger
    private let group = NIOLockedValueBox<ServiceGroup?>(nil)
    private let applied: NIOLockedValueBox<HeraldConfiguration>
    /// The configuration keys the role and its plugins asked for at start-up.
    private let knownKeys: Set<String>
    /// Whether the role calls or serves gRPC (a changed secret file needs a restart).
    private let usesRPC: Bool

    /// Call it last in a role's initializer, once every plugin has read its settings: it refuses
    /// the keys of `configuration` that nobody asked for.
    init(configuration: HeraldConfiguration, usesRPC: Bool, logger: Logger) throws(ConfigError) {
        self.logger = logger
        self.usesRPC = usesRPC
        self.applied = NIOLockedValueBox(configuration)
        self.knownKeys = try configuration.refuseUnknownKeys(logger: logger)
    }

    /// Runs `services` as one group; `cleanUp` runs after it ended, `failed` first when it threw.
    func run(
        _ services: [ServiceGroupConfiguration.ServiceConfiguration],
        signals: [UnixSignal],
        failed: (any Error) -> Void = { _ in },
        cleanUp: () async -> Void
    ) async throws {
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: signals, cancellationSignals: [], logger: logger)
        )
        self.group.withLockedValue { $0 = group }
        do {
            try await group.run()
        } catch {
            failed(error)
            await cleanUp()
            throw error
        }
        await cleanUp()
    }

    func shutdown() async {
        await group.withLockedValue { $0 }?.triggerGracefulShutdown()
    }

    /// Refuses `next` if it sets an unknown key; otherwise runs `apply` (given the configuration
    /// running until now; it returns the keys it applies live) and reports every changed key.
    func reload(_ next: HeraldConfiguration, apply: (HeraldConfiguration) async throws -> [String]) async throws -> ReloadReport {
        let current = applied.withLockedValue { $0 }
        try next.refuseUnknownKeys(alsoKnown: knownKeys, logger: logger)
        let live = try await apply(current)
        applied.withLockedValue { $0 = next }
        return LiveReload.report(current: current, next: next, live: live, rpc: usesRPC, logger: logger)
    }
}
