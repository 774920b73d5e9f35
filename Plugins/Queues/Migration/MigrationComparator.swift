import DequeModule
import HeraldCore
import HeraldProtocol
import Logging
import Metrics
import NIOConcurrencyHelpers

/// Which backend a delivery came from.
public enum MigrationSide: String, Sendable {
    case primary, secondary
}

/// What the comparator saw during one phase.
public struct MigrationFigures: Sendable, Equatable, CustomStringConvertible {
    public var seenPrimary = 0
    public var seenSecondary = 0
    /// First copies of a message (what clients get once).
    public var delivered = 0
    /// Second copies (handed on too: the comets drop what they delivered already).
    public var secondCopies = 0
    /// Messages whose twin did not arrive from that backend within `twin_timeout` (dual-read only).
    public var missingOnPrimary = 0
    public var missingOnSecondary = 0
    /// Time between the two copies of a message (dual-read only).
    public var lagCount = 0
    public var lagMax: Duration = .zero
    public var lagTotal: Duration = .zero

    public var lagMean: Duration { lagCount == 0 ? .zero : lagTotal / lagCount }

    public var description: String {
        "seen primary \(seenPrimary), seen secondary \(seenSecondary), delivered \(delivered), second copies \(secondCopies), "
            + "missing on primary \(missingOnPrimary), missing on secondary \(missingOnSecondary), lag mean \(lagMean) max \(lagMax)"
    }
}

/// Compares the two backends' deliveries by message id: per phase, how many messages each backend
/// carried, how many were missing on either side, how many arrived twice, and how far one backend
/// lags the other. Figures go to logs and metrics. It drops nothing: both copies go on to the
/// comets, which drop the second (so a first copy lost in a stopping job cannot take its twin with it).
final class MigrationComparator: Sendable {
    private struct State {
        var phase: MigrationPhase
        var figures: [MigrationPhase: MigrationFigures] = [:]
        var window: DedupWindow
        /// First copies still waiting for their twin (dual-read only), oldest first.
        var waiting: [MessageID: (side: MigrationSide, at: ContinuousClock.Instant)] = [:]
        var waitingOrder = Deque<MessageID>()
    }

    private let state: NIOLockedValueBox<State>
    private let twinTimeout: Duration
    private let seenPrimary = Counter(label: "herald_migration_seen_total", dimensions: [("backend", "primary")])
    private let seenSecondary = Counter(label: "herald_migration_seen_total", dimensions: [("backend", "secondary")])
    private let delivered = Counter(label: "herald_migration_delivered_total")
    private let secondCopies = Counter(label: "herald_migration_second_copies_total")
    private let missingPrimary = Counter(label: "herald_migration_missing_total", dimensions: [("backend", "primary")])
    private let missingSecondary = Counter(label: "herald_migration_missing_total", dimensions: [("backend", "secondary")])
    private let lag = Timer(label: "herald_migration_twin_lag_seconds")
    private let phaseGauge = Gauge(label: "herald_migration_phase")

    init(phase: MigrationPhase, window: Int, twinTimeout: Duration) {
        state = NIOLockedValueBox(State(phase: phase, window: DedupWindow(capacity: window)))
        self.twinTimeout = twinTimeout
        phaseGauge.record(phase.number)
    }

    /// Records a delivery; true for the first copy of a message, false for a second one.
    /// Messages without an id (published by something other than Herald's logic) count as first copies.
    func observe(_ message: PushMsg, from side: MigrationSide) -> Bool {
        (side == .primary ? seenPrimary : seenSecondary).increment()
        let now = ContinuousClock.now
        let (first, lagged) = state.withLockedValue { s -> (Bool, Duration?) in
            let phase = s.phase
            var figures = s.figures[phase] ?? MigrationFigures()
            defer { s.figures[phase] = figures }
            if side == .primary { figures.seenPrimary += 1 } else { figures.seenSecondary += 1 }
            guard !message.heraldOrigin.isEmpty else {
                figures.delivered += 1
                return (true, nil)
            }
            let id = MessageID(origin: message.heraldOrigin, seq: message.heraldSeq)
            if s.window.insert(id) {
                figures.delivered += 1
                if phase == .dualRead {
                    s.waiting[id] = (side, now)
                    s.waitingOrder.append(id)
                }
                return (true, nil)
            }
            figures.secondCopies += 1
            // A second copy from the same backend (its own redelivery) is not the twin.
            guard let twin = s.waiting[id], twin.side != side else { return (false, nil) }
            s.waiting.removeValue(forKey: id)
            let lag = now - twin.at
            figures.lagCount += 1
            figures.lagTotal += lag
            figures.lagMax = max(figures.lagMax, lag)
            return (false, lag)
        }
        if first { delivered.increment() } else { secondCopies.increment() }
        if let lagged { lag.recordNanoseconds(lagged.nanoseconds) }
        return first
    }

    /// Counts first copies whose twin is overdue as missing on the other backend.
    func sweep() {
        let now = ContinuousClock.now
        let (primary, secondary) = state.withLockedValue { s -> (Int, Int) in
            var missing = (0, 0)
            while let id = s.waitingOrder.first {
                guard let entry = s.waiting[id] else {
                    s.waitingOrder.removeFirst()
                    continue
                }
                guard now - entry.at > twinTimeout else { break }
                s.waitingOrder.removeFirst()
                s.waiting.removeValue(forKey: id)
                if entry.side == .primary {
                    missing.1 += 1
                    s.figures[s.phase, default: .init()].missingOnSecondary += 1
                } else {
                    missing.0 += 1
                    s.figures[s.phase, default: .init()].missingOnPrimary += 1
                }
            }
            return missing
        }
        if primary > 0 { missingPrimary.increment(by: Int64(primary)) }
        if secondary > 0 { missingSecondary.increment(by: Int64(secondary)) }
    }

    /// Moves to `phase`; returns the figures of the phase that ended.
    func setPhase(_ phase: MigrationPhase) -> (MigrationPhase, MigrationFigures) {
        sweep()
        phaseGauge.record(phase.number)
        return state.withLockedValue { s in
            let ended = s.phase
            s.phase = phase
            if phase != .dualRead {
                s.waiting.removeAll()
                s.waitingOrder.removeAll()
            }
            return (ended, s.figures[ended] ?? .init())
        }
    }

    var phase: MigrationPhase { state.withLockedValue { $0.phase } }

    /// Figures per phase, for logs, tests and operators.
    func snapshot() -> [MigrationPhase: MigrationFigures] { state.withLockedValue { $0.figures } }
}
