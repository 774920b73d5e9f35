/// Counts messages lost in transit from each publisher: every logic instance numbers its messages
/// (`herald_origin`, `herald_seq` from 1), and a jump in the numbers a consumer sees is a loss —
/// ZeroMQ keeps no log, so what was queued in a job that stopped is gone.
///
/// With several job endpoints a publisher's numbers are spread over them, so gaps are only
/// meaningful with one; the queue counts them only then.
struct SequenceGaps {
    private var last: [String: UInt64] = [:]
    private(set) var lost: UInt64 = 0
    private(set) var outOfOrder: UInt64 = 0

    /// Records one message; returns how many messages were skipped before it.
    mutating func record(origin: String, seq: UInt64) -> UInt64 {
        guard seq > 0 else { return 0 }
        guard let previous = last[origin] else {
            last[origin] = seq
            return 0
        }
        if seq <= previous {
            outOfOrder += 1
            return 0
        }
        last[origin] = seq
        let skipped = seq - previous - 1
        lost += skipped
        return skipped
    }
}
