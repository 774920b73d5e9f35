import DequeModule

/// Tracks, per partition, which consumed offsets the job has finished, and yields the offset that
/// may be committed: the one after the longest finished prefix. Acknowledgements may arrive out
/// of order (room messages wait in a batch while later pushes complete), but a commit never
/// passes an offset that is still in flight — that is what makes the backend at-least-once.
///
/// Also counts redeliveries: an offset handed to the job at or below the highest one this consumer
/// already handed out on that partition (after a rebalance moved the partition away and back, or
/// the consumer restarted from an older commit). Messages fetched but dropped on a revocation were
/// never handed out and do not count.
struct PartitionOffsets {
    private struct Partition {
        /// Offsets handed to the job in consumption order, with whether each is finished.
        var inFlight = Deque<(offset: Int64, done: Bool)>()
        var highestHandedOut: Int64 = -1
    }

    private var partitions: [Int32: Partition] = [:]
    private(set) var redelivered = 0

    /// Records a fetched offset, in fetch order.
    mutating func received(partition: Int32, offset: Int64) {
        var p = partitions[partition] ?? Partition()
        if let last = p.inFlight.last, offset <= last.offset {
            // The partition restarted from an older position: what was in flight will come again.
            p.inFlight.removeAll()
        }
        p.inFlight.append((offset, false))
        partitions[partition] = p
    }

    /// Records that the job got this offset. Returns true when this consumer had handed it out before.
    @discardableResult
    mutating func handedOut(partition: Int32, offset: Int64) -> Bool {
        var p = partitions[partition] ?? Partition()
        let again = offset <= p.highestHandedOut
        if again { redelivered += 1 }
        p.highestHandedOut = max(p.highestHandedOut, offset)
        partitions[partition] = p
        return again
    }

    /// Marks an offset finished. Returns the offset to commit (one past the finished prefix) when
    /// the prefix grew, nil otherwise (also for offsets this tracker no longer holds).
    mutating func acknowledge(partition: Int32, offset: Int64) -> Int64? {
        guard var p = partitions[partition], let index = Self.index(of: offset, in: p.inFlight) else { return nil }
        p.inFlight[index].done = true
        var commit: Int64?
        while let first = p.inFlight.first, first.done {
            commit = first.offset + 1
            p.inFlight.removeFirst()
        }
        partitions[partition] = p
        return commit
    }

    /// Forgets the in-flight offsets of partitions this consumer no longer owns (after a revoke).
    /// Their acknowledgements are then ignored; the new owner consumes from the last commit.
    mutating func revoke(_ revoked: [Int32]) {
        for partition in revoked { partitions[partition]?.inFlight.removeAll() }
    }

    /// Offsets handed out and not yet finished, over all partitions.
    var inFlightCount: Int { partitions.values.reduce(0) { $0 + $1.inFlight.count } }

    private static func index(of offset: Int64, in offsets: Deque<(offset: Int64, done: Bool)>) -> Int? {
        var low = 0
        var high = offsets.count - 1
        while low <= high {
            let mid = (low + high) / 2
            let value = offsets[mid].offset
            if value == offset { return mid }
            if value < offset { low = mid + 1 } else { high = mid - 1 }
        }
        return nil
    }
}
