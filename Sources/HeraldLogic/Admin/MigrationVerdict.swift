import NIOConcurrencyHelpers

/// The runbook's check before each migration step, computed from the comparator's figures: the
/// next step is safe once no message went missing on either backend for `quiet` (10 minutes).
/// Kept across the console's snapshots: when the missing count last grew, and since when it is
/// watched (a process that just started has not watched long enough to say "safe").
public final class MigrationVerdict: Sendable {
    public struct Answer: Sendable, Encodable, Equatable {
        public var phase: String
        public var next: String?
        public var missing: Double
        public var safe: Bool
        public var text: String
    }

    private struct State {
        var lastMissing: Double?
        var quietSince: ContinuousClock.Instant
    }

    static let phases = ["primary-only", "dual-write", "dual-read", "secondary-only"]
    private let quiet: Duration
    private let state: NIOLockedValueBox<State>

    public init(quiet: Duration = .seconds(600)) {
        self.quiet = quiet
        state = NIOLockedValueBox(State(quietSince: .now))
    }

    /// The verdict for these samples, or nil when the process runs no migration.
    public func judge(_ samples: MetricSamples, now: ContinuousClock.Instant = .now) -> Answer? {
        guard let number = samples.total("herald_migration_phase"), Int(number) >= 0, Int(number) < Self.phases.count else { return nil }
        let phase = Self.phases[Int(number)]
        let following: String? = Int(number) + 1 < Self.phases.count ? Self.phases[Int(number) + 1] : nil
        let missing = samples.total("herald_migration_missing_total") ?? 0
        let quietFor: Duration = state.withLockedValue { s in
            if let last = s.lastMissing, missing > last { s.quietSince = now }
            s.lastMissing = missing
            return now - s.quietSince
        }
        guard let step = following else {
            return Answer(
                phase: phase, next: nil, missing: missing, safe: true,
                text: "migration done: set [queue] plugin = \"zeromq\" at the next restart")
        }
        let minutes = Int(quiet.components.seconds / 60)
        if quietFor >= quiet {
            return Answer(
                phase: phase, next: step, missing: missing, safe: true,
                text: "safe to go to \(step): no message missing for \(minutes) minutes")
        }
        let watched = Int(quietFor.components.seconds / 60)
        return Answer(
            phase: phase, next: step, missing: missing, safe: false,
            text:
                "not yet safe to go to \(step): \(watched) of \(minutes) minutes without a missing message (\(Int(missing)) missing so far)"
        )
    }
}
