public import HeraldCore
import HeraldPluginSupport
public import HeraldProtocol
public import Logging
import Metrics
import NIOConcurrencyHelpers

/// The `migration` queue plugin: two backends and a phase, changed at run time (SIGHUP with an
/// edited config), so a team moves from one backend to another in stages without a maintenance
/// window and without losing or doubling messages. See ``MigrationPhase``.
///
/// Each message carries an id (`herald_origin`, `herald_seq`); while both backends are consumed,
/// both copies reach the job, which acknowledges each to its backend once the comets accepted it,
/// and the comets drop the second copy. The comparator reports, per phase, what each backend
/// carried, what was missing on either side, the second copies, and lag.
public final class MigrationQueue: ReloadableQueue {
    public let name: String
    public let primary: any QueueBackend
    public let secondary: any QueueBackend
    public let configuration: MigrationConfiguration
    public var guarantees: QueueGuarantees {
        let a = primary.guarantees
        let b = secondary.guarantees
        return QueueGuarantees(
            durable: a.durable && b.durable,
            orderedPerKey: a.orderedPerKey && b.orderedPerKey,
            redelivers: a.redelivers && b.redelivers
        )
    }

    private let comparator: MigrationComparator
    private let consumers = NIOLockedValueBox<[WeakConsumer]>([])
    private let logger: Logger
    private let secondaryLog = RateLimitedLog(interval: .seconds(1))
    private let reporter: Task<Void, Never>
    /// Copies on their way to the secondary in dual-write.
    private let secondaryInFlight = NIOLockedValueBox(0)
    private let secondarySkipped = Counter(label: "herald_migration_secondary_skipped_total")
    private let skipped = NIOLockedValueBox(0)

    /// dual-write copies not sent to the secondary because too many were still on their way.
    public var secondarySkippedCount: Int { skipped.withLockedValue { $0 } }

    public init(
        name: String = "migration", configuration: MigrationConfiguration, primary: any QueueBackend, secondary: any QueueBackend,
        logger: Logger
    ) {
        self.name = name
        self.configuration = configuration
        self.primary = primary
        self.secondary = secondary
        self.logger = logger
        let comparator = MigrationComparator(
            phase: configuration.phase, window: configuration.dedupWindow, twinTimeout: configuration.twinTimeout)
        self.comparator = comparator
        let interval = configuration.reportInterval
        reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: min(interval, configuration.twinTimeout / 2))
                comparator.sweep()
                let phase = comparator.phase
                if let figures = comparator.snapshot()[phase], figures != MigrationFigures() {
                    logger.info(
                        "migration comparator", metadata: ["migration.phase": "\(phase.rawValue)", "migration.figures": "\(figures)"])
                }
            }
        }
        logger.notice(
            "migration queue",
            metadata: [
                "migration.primary": "\(primary.name)", "migration.secondary": "\(secondary.name)",
                "migration.phase": "\(configuration.phase.rawValue)",
            ]
        )
    }

    /// Registers the plugin under `migration`; settings from `[queue.migration]`, the backends'
    /// from `[queue.migration.<plugin>]`.
    public static func register(in registry: inout PluginRegistry) {
        registry.registerQueue("migration") { context in
            let configuration = try MigrationConfiguration(context.config)
            _ = context.config.tableNames  // [queue.migration.<plugin>]: read by the backends in use
            func backend(_ plugin: String) throws -> any QueueBackend {
                try context.registry.makeQueue(
                    plugin: plugin,
                    context: QueueContext(
                        name: plugin, config: try context.config.table(plugin), logger: context.logger, registry: context.registry)
                )
            }
            return MigrationQueue(
                name: context.name,
                configuration: configuration,
                primary: try backend(configuration.primary),
                secondary: try backend(configuration.secondary),
                logger: context.logger
            )
        }
    }

    public var phase: MigrationPhase { comparator.phase }

    /// The comparator's figures per phase.
    public func figures() -> [MigrationPhase: MigrationFigures] { comparator.snapshot() }

    public func publish(_ message: PushMsg) async throws {
        let phase = comparator.phase
        switch phase {
        case .primaryOnly:
            try await primary.publish(message)
        case .secondaryOnly:
            try await secondary.publish(message)
        case .dualWrite:
            // The primary is authoritative and nothing consumes the secondary yet: the push API
            // never waits on it beyond `secondary_wait`, and at most `secondary_in_flight` copies
            // are on their way to it at once (more are skipped, counted).
            // The copy starts only once the primary accepted: a push answered -500 is on neither.
            try await primary.publish(message)
            if let copy = secondaryCopy(message) { await copy.wait(atMost: configuration.secondaryWait) }
        case .dualRead:
            // Both must accept: the next step stops consuming one of them (which one depends on
            // the direction), so a message on only one could be left behind unconsumed. A push
            // that fails here may already be on one backend; the comets drop that copy if the
            // client's retry reaches them under the same id, and a new id is a new message.
            async let p: (any Error)? = attempt(primary, message)
            async let s: (any Error)? = attempt(secondary, message)
            let (primaryError, secondaryError) = await (p, s)
            if let error = primaryError ?? secondaryError {
                secondaryLog.log(
                    logger, "migration: a backend did not accept a message in dual-read; the push is refused",
                    metadata: ["error": "\(error)"])
                throw error
            }
        }
    }

    /// Starts publishing `message` to the secondary in the background (dual-write); nil when too
    /// many copies are still on their way (the copy is skipped and counted).
    private func secondaryCopy(_ message: PushMsg) -> SecondaryCopy? {
        let admitted = secondaryInFlight.withLockedValue { n -> Bool in
            guard n < configuration.secondaryInFlight else { return false }
            n += 1
            return true
        }
        guard admitted else {
            secondarySkipped.increment()
            skipped.withLockedValue { $0 += 1 }
            secondaryLog.log(
                logger, "migration: the secondary is not keeping up; copies skipped (counted in herald_migration_secondary_skipped_total)")
            return nil
        }
        let copy = SecondaryCopy()
        let secondary = self.secondary, logger = self.logger, log = secondaryLog, inFlight = secondaryInFlight
        Task {
            let error = await Self.attempt(secondary, message)
            inFlight.withLockedValue { $0 -= 1 }
            if let error { log.log(logger, "migration: the secondary did not accept a message", metadata: ["error": "\(error)"]) }
            copy.finish()
        }
        return copy
    }

    private func attempt(_ backend: any QueueBackend, _ message: PushMsg) async -> (any Error)? {
        await Self.attempt(backend, message)
    }

    private static func attempt(_ backend: any QueueBackend, _ message: PushMsg) async -> (any Error)? {
        do {
            try await backend.publish(message)
            return nil
        } catch {
            return error
        }
    }

    public func makeConsumer() async throws -> any QueueConsumer {
        let comparator = self.comparator
        let fanIn = ConsumerFanIn { delivery, source in
            _ = comparator.observe(delivery.message, from: source == MigrationSide.primary.rawValue ? .primary : .secondary)
        }
        try await apply(comparator.phase, to: fanIn)
        consumers.withLockedValue { list in
            list.removeAll { $0.value == nil }
            list.append(WeakConsumer(fanIn))
        }
        return fanIn
    }

    /// Opens and closes the backends' consumers so that `fanIn` consumes what `phase` says.
    private func apply(_ phase: MigrationPhase, to fanIn: ConsumerFanIn) async throws {
        let active = Set(fanIn.sourceNames)
        for (side, backend, wanted) in [
            (MigrationSide.primary, primary, phase.consumesPrimary),
            (MigrationSide.secondary, secondary, phase.consumesSecondary),
        ] {
            if wanted && !active.contains(side.rawValue) {
                fanIn.add(side.rawValue, try await backend.makeConsumer())
            } else if !wanted && active.contains(side.rawValue) {
                await fanIn.remove(side.rawValue)
            }
        }
    }

    /// The phase is the only setting that changes live.
    public var liveKeys: [String] { ["phase"] }

    /// Applies a new phase; the other keys keep their start-up values until a restart.
    public func reload(_ config: ConfigTable) async throws {
        let next = try MigrationConfiguration(config)
        let current = comparator.phase
        guard next.phase != current else { return }
        guard abs(next.phase.number - current.number) == 1 else {
            throw ConfigError(
                key: config.keyPath("phase"),
                message:
                    "moves one step at a time (\(current.rawValue) → \(next.phase.rawValue) would skip one; messages on the backend left behind could be lost)"
            )
        }
        // Consumers first, then publishing: a step never stops consuming a backend that holds
        // messages the other one lacks, because whatever was published to only one of them is on
        // the one that stays consumed. If a consumer cannot be opened, every consumer goes back to
        // the current phase and the phase stays (a second SIGHUP retries the step).
        let fanIns = consumers.withLockedValue { $0.compactMap(\.value) }
        var changed: [ConsumerFanIn] = []
        do {
            for fanIn in fanIns {
                try await apply(next.phase, to: fanIn)
                changed.append(fanIn)
            }
        } catch {
            for fanIn in changed + [fanIns[changed.count]] { try? await apply(current, to: fanIn) }
            logger.error(
                "migration phase change failed; staying in the current phase",
                metadata: ["migration.phase": "\(current.rawValue)", "migration.to": "\(next.phase.rawValue)", "error": "\(error)"]
            )
            throw error
        }
        let (ended, figures) = comparator.setPhase(next.phase)
        logger.notice(
            "migration phase changed",
            metadata: [
                "migration.from": "\(ended.rawValue)", "migration.to": "\(next.phase.rawValue)",
                "migration.figures": "\(figures)",
            ]
        )
    }

    public func shutdown() async {
        reporter.cancel()
        await primary.shutdown()
        await secondary.shutdown()
    }
}

private struct WeakConsumer: Sendable {
    weak var value: ConsumerFanIn?
    init(_ value: ConsumerFanIn) { self.value = value }
}

/// A dual-write copy on its way to the secondary, which the push waits for a bounded time.
private final class SecondaryCopy: Sendable {
    private let state = NIOLockedValueBox<(done: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func finish() {
        let waiter = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            s.done = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// Returns when the copy was accepted or failed, or after `bound`, whichever comes first.
    func wait(atMost bound: Duration) async {
        guard bound > .zero else { return }
        let timer = Task {
            try? await Task.sleep(for: bound)
            self.finish()
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLockedValue { s -> Bool in
                if s.done { return true }
                s.waiter = c
                return false
            }
            if ready { c.resume() }
        }
        timer.cancel()
    }
}
