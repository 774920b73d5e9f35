/// Counts messages lost in transit on each stream: every sending socket numbers what it sends
/// (`herald_stream`, `herald_stream_seq` from 1, consecutive), and a number that never arrives is a
/// loss — ZeroMQ keeps no log, so what was queued in a job that stopped is gone. Each job endpoint
/// has its own sending socket in every logic, so a job sees every number of the streams it is sent.
///
/// A missing number only counts as lost once it is `grace` overdue (a reconnect can deliver a
/// socket's queue late).
struct SequenceGaps {
    private struct Origin {
        var highest: UInt64
        /// Numbers skipped over, with when they were first missed.
        var missing: [UInt64: ContinuousClock.Instant] = [:]
        var lastSeen: ContinuousClock.Instant
    }

    private var origins: [String: Origin] = [:]
    let grace: Duration
    /// Larger jumps than this count as lost at once (a restarted publisher, not reordering).
    let maxTracked: UInt64 = 10_000
    /// Streams followed at once (each logic restart brings new ones); the one seen least recently
    /// is forgotten first.
    let maxStreams = 4096

    init(grace: Duration = .seconds(5)) { self.grace = grace }

    /// Records one message; returns how many numbers became lost (overdue) by now.
    mutating func record(origin: String, seq: UInt64, now: ContinuousClock.Instant = .now) -> UInt64 {
        guard seq > 0 else { return 0 }
        guard var o = origins[origin] else {
            if origins.count >= maxStreams, let stale = origins.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
                origins[stale] = nil
            }
            origins[origin] = Origin(highest: seq, lastSeen: now)
            return 0
        }
        o.lastSeen = now
        var lost: UInt64 = 0
        if seq > o.highest {
            let skipped = seq - o.highest - 1
            if skipped > maxTracked {
                lost += skipped
            } else if skipped > 0 {
                for n in (o.highest + 1)..<seq { o.missing[n] = now }
            }
            o.highest = seq
        } else {
            o.missing.removeValue(forKey: seq)
        }
        let overdue = o.missing.filter { now - $0.value > grace }
        for n in overdue.keys { o.missing.removeValue(forKey: n) }
        lost += UInt64(overdue.count)
        origins[origin] = o
        return lost
    }
}
