import Atomics
public import HeraldCore
public import Logging
import Metrics
import NIOConcurrencyHelpers

/// Drops the pushes this comet already delivered, by ``MessageIdentity``: a queue redelivering
/// after a rebalance or a job restart, a job retrying a call whose answer it lost, several jobs, or
/// both copies of a message during a migration. A client that stays on this comet sees each
/// message once.
///
/// Memory is constant per origin (a ``SequenceWindow`` of `window` numbers, `window / 8` bytes);
/// at most `maxOrigins` origins are remembered, the one seen least recently forgotten first.
/// Drops are counted (`herald_push_duplicates_dropped_total`); numbers too far below an origin's
/// highest to be told apart are delivered and counted (`herald_dedup_out_of_window_total`), and
/// both are logged at most once per 10 s.
public final class DeliveryDeduplicator: Sendable {
    private struct Entry {
        var window: SequenceWindow
        var lastUsed: UInt64

        mutating func insert(_ seq: UInt64, at clock: UInt64) -> SequenceWindow.Outcome {
            lastUsed = clock
            return window.insert(seq)
        }
    }

    private struct State {
        var origins: [String: Entry] = [:]
        var clock: UInt64 = 0

        mutating func insert(_ identity: MessageIdentity, window: Int, maxOrigins: Int) -> SequenceWindow.Outcome {
            clock += 1
            if let outcome = origins[identity.origin]?.insert(identity.seq, at: clock) { return outcome }
            if origins.count >= maxOrigins, let oldest = origins.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                origins[oldest] = nil
            }
            var entry = Entry(window: SequenceWindow(capacity: window), lastUsed: clock)
            let outcome = entry.insert(identity.seq, at: clock)
            origins[identity.origin] = entry
            return outcome
        }
    }

    public let window: Int
    public let maxOrigins: Int
    private let state = NIOLockedValueBox(State())
    private let duplicates = ManagedAtomic<Int>(0)
    private let outOfWindow = ManagedAtomic<Int>(0)
    private let duplicateCounter = Counter(label: "herald_push_duplicates_dropped_total")
    private let outOfWindowCounter = Counter(label: "herald_dedup_out_of_window_total")
    private let log = RateLimitedLog(interval: .seconds(10))
    private let logger: Logger

    public init(window: Int, maxOrigins: Int, logger: Logger) {
        self.window = window
        self.maxOrigins = max(1, maxOrigins)
        self.logger = logger
    }

    /// Duplicates dropped so far, and messages delivered without being told apart.
    public var counts: (duplicates: Int, outOfWindow: Int) {
        (duplicates.load(ordering: .relaxed), outOfWindow.load(ordering: .relaxed))
    }

    /// `unit` without the packets already delivered here; nil when nothing is left. Packets without
    /// an identity always pass.
    public func admit(_ unit: PushUnit) -> PushUnit? {
        guard !unit.identities.isEmpty else { return unit }
        let (drop, old) = state.withLockedValue { s -> (Set<Int>, Int) in
            var drop = Set<Int>()
            var old = 0
            for (index, identity) in unit.identities.enumerated() {
                guard let identity else { continue }
                switch s.insert(identity, window: window, maxOrigins: maxOrigins) {
                case .new: break
                case .duplicate: drop.insert(index)
                case .tooOld: old += 1
                }
            }
            return (drop, old)
        }
        if old > 0 {
            outOfWindow.wrappingIncrement(by: old, ordering: .relaxed)
            outOfWindowCounter.increment(by: Int64(old))
            log.log(
                logger, "pushes older than the deduplication window were delivered (they may repeat an earlier delivery)",
                metadata: ["dedup.window": "\(window)"])
        }
        guard !drop.isEmpty else { return unit }
        duplicates.wrappingIncrement(by: drop.count, ordering: .relaxed)
        duplicateCounter.increment(by: Int64(drop.count))
        log.log(
            logger, "already delivered pushes dropped (redelivered by the queue or sent twice)",
            metadata: ["dedup.dropped": "\(drop.count)"])
        return unit.removing(drop)
    }
}
