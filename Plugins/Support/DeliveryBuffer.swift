import DequeModule
public import HeraldCore
import NIOConcurrencyHelpers

/// The hand-over between a queue plugin's polling thread and the job: a bounded buffer of
/// deliveries and at most one waiting ``next()``. The polling thread checks ``isFull`` before
/// fetching more, which is the backpressure from a slow job to the broker.
public final class DeliveryBuffer: Sendable {
    private struct State {
        var items = Deque<QueueDelivery>()
        var waiter: CheckedContinuation<QueueDelivery?, Never>?
        var closed = false
        /// No more offers; what is buffered is still handed out, then nil.
        var finishing = false
    }

    public let capacity: Int
    private let state = NIOLockedValueBox(State())
    private let onHandOut: @Sendable (QueueDelivery) -> Void

    /// `onHandOut` runs (outside the buffer's lock) for every delivery given to the job.
    public init(capacity: Int, onHandOut: @escaping @Sendable (QueueDelivery) -> Void = { _ in }) {
        self.capacity = capacity
        self.onHandOut = onHandOut
    }

    /// The next delivery, or nil once closed.
    public func next() async -> QueueDelivery? {
        await withCheckedContinuation { (c: CheckedContinuation<QueueDelivery?, Never>) in
            let ready: QueueDelivery?? = state.withLockedValue { s in
                if s.closed { return .some(nil) }
                if let d = s.items.popFirst() { return .some(d) }
                if s.finishing { return .some(nil) }
                s.waiter = c
                return .none
            }
            guard let ready else { return }
            if let d = ready { onHandOut(d) }
            c.resume(returning: ready)
        }
    }

    /// Up to `max` deliveries: waits for the first, then takes what is buffered; empty once closed.
    public func nextBatch(max: Int) async -> [QueueDelivery] {
        guard let first = await next() else { return [] }
        guard max > 1 else { return [first] }
        let more: [QueueDelivery] = state.withLockedValue { s in
            guard !s.closed else { return [] }
            let n = min(max - 1, s.items.count)
            defer { s.items.removeFirst(n) }
            return Array(s.items.prefix(n))
        }
        for d in more { onHandOut(d) }
        return [first] + more
    }

    /// Adds a delivery from the polling thread; returns false once closed (the delivery is dropped).
    @discardableResult
    public func offer(_ delivery: QueueDelivery) -> Bool {
        let outcome: (accepted: Bool, waiter: CheckedContinuation<QueueDelivery?, Never>?) = state.withLockedValue { s in
            if s.closed || s.finishing { return (false, nil) }
            if let w = s.waiter {
                s.waiter = nil
                return (true, w)
            }
            s.items.append(delivery)
            return (true, nil)
        }
        if let waiter = outcome.waiter {
            onHandOut(delivery)
            waiter.resume(returning: delivery)
        }
        return outcome.accepted
    }

    /// True when closed or holding `capacity` deliveries: the polling thread should not fetch.
    public var isFull: Bool { state.withLockedValue { $0.closed || $0.finishing || $0.items.count >= capacity } }

    public var isClosed: Bool { state.withLockedValue { $0.closed || $0.finishing } }

    /// Takes no more offers but hands out what is buffered, then nil: a graceful stop of a
    /// backend that cannot redeliver (what it received is delivered, not dropped).
    public func finish() {
        let waiter = state.withLockedValue { s -> CheckedContinuation<QueueDelivery?, Never>? in
            s.finishing = true
            guard s.items.isEmpty else { return nil }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Drops buffered deliveries matching `predicate` (e.g. of partitions revoked from this consumer).
    public func removeAll(where predicate: (QueueDelivery) -> Bool) {
        state.withLockedValue { $0.items.removeAll(where: predicate) }
    }

    /// Stops handing out: a waiting ``next()`` returns nil, buffered deliveries are dropped.
    /// Returns how many were dropped.
    @discardableResult
    public func close() -> Int {
        let (waiter, dropped) = state.withLockedValue { s in
            s.closed = true
            let dropped = s.items.count
            s.items.removeAll()
            defer { s.waiter = nil }
            return (s.waiter, dropped)
        }
        waiter?.resume(returning: nil)
        return dropped
    }
}
