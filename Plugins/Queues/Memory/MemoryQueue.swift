import DequeModule
public import HeraldCore
public import HeraldProtocol
import NIOConcurrencyHelpers

/// The `memory` queue plugin: an in-process bounded queue between logic and job.
///
/// Not durable and no redelivery: what is queued is lost if the process stops.
///
/// Bounded in count and in time, counted from publish to the job's acknowledgement (the comets
/// took the message), so a backlog waiting in the job's lanes counts too: when `capacity`
/// messages are outstanding, or the oldest outstanding one was published more than `max_delay`
/// ago, publishing fails at once with ``QueueError/full(_:retryAfter:)`` (the push API answers
/// 503 with `Retry-After`) instead of queueing the push behind seconds of backlog.
public final class MemoryQueue: LocalQueueBackend {
    public let name: String
    public let capacity: Int
    public var guarantees: QueueGuarantees { QueueGuarantees(durable: false, orderedPerKey: true, redelivers: false) }

    private struct State {
        var items = Deque<QueueDelivery>()
        var waiters = Deque<(consumer: Int, continuation: CheckedContinuation<QueueDelivery?, Never>)>()
        var closedConsumers = Set<Int>()
        var nextConsumer = 0
        var nextPosition: UInt64 = 0
        var closed = false
        var published = 0
        var acknowledged = 0
        /// Publish times of the outstanding (published, not acknowledged) messages by position,
        /// from ``outstandingBase``; acknowledged ones past the first wait in ``acknowledgedAhead``.
        var publishedAt = Deque<ContinuousClock.Instant>()
        var outstandingBase: UInt64 = 0
        var acknowledgedAhead = Set<UInt64>()
    }

    private let state = NIOLockedValueBox(State())

    /// Longest an outstanding message may have waited before publishing is refused (zero: no limit).
    public let maxDelay: Duration

    /// The plugin's default `max_delay`.
    public static let defaultMaxDelay: Duration = .seconds(2)

    /// A queue of `capacity` outstanding messages; `maxDelay` zero (as built here by default, for
    /// code that composes its own pipeline) sets no bound in time. The `memory` plugin defaults to
    /// ``defaultMaxDelay``.
    public init(name: String = "memory", capacity: Int = 65536, maxDelay: Duration = .zero) {
        self.name = name
        self.capacity = capacity
        self.maxDelay = maxDelay
    }

    /// Registers the plugin under `memory`. Config: `capacity` (default 65536), `max_delay` (default "2s"; "0s": no limit).
    public static func register(in registry: inout PluginRegistry) {
        registry.registerQueue("memory") { context in
            MemoryQueue(
                name: context.name,
                capacity: try context.config.int("capacity", default: 65536, in: 1...(1 << 26)),
                maxDelay: try context.config.duration("max_delay", default: defaultMaxDelay))
        }
    }

    public func publish(_ message: PushMsg) async throws { try publishNow(message) }

    public func publishNow(_ message: PushMsg) throws {
        let now = ContinuousClock.now
        let maxDelay = self.maxDelay
        let waiter: (CheckedContinuation<QueueDelivery?, Never>, QueueDelivery)? = try state.withLockedValue { s in
            guard !s.closed else { throw QueueError("memory queue is shut down") }
            guard s.publishedAt.count < capacity else {
                throw QueueError.full("memory queue is full: \(capacity) messages not yet delivered (capacity)", retryAfter: .seconds(1))
            }
            if maxDelay > .zero, let oldest = s.publishedAt.first, now - oldest > maxDelay {
                throw QueueError.full(
                    "memory queue is behind: a message accepted \(Self.millis(now - oldest)) ms ago is not yet delivered (max_delay \(Self.millis(maxDelay)) ms)",
                    retryAfter: .seconds(1))
            }
            let delivery = QueueDelivery(message: message, position: s.nextPosition)
            s.nextPosition += 1
            s.published += 1
            s.publishedAt.append(now)
            // A paced broadcast takes as long as its pace says: it does not count as a backlog.
            if message.type == .broadcast, message.speed > 0 { Self.markDone(delivery.position, in: &s) }
            if let w = s.waiters.popFirst() { return (w.continuation, delivery) }
            s.items.append(delivery)
            return nil
        }
        if let (continuation, delivery) = waiter { continuation.resume(returning: delivery) }
    }

    public func makeConsumer() async throws -> any QueueConsumer {
        Consumer(
            queue: self,
            id: state.withLockedValue { s in
                defer { s.nextConsumer += 1 }
                return s.nextConsumer
            })
    }

    public func shutdown() async { closeAll() }

    /// Messages published and acknowledged so far, queued for the job, and outstanding (published, not acknowledged).
    public var counts: (published: Int, acknowledged: Int, queued: Int, outstanding: Int) {
        state.withLockedValue { ($0.published, $0.acknowledged, $0.items.count, $0.publishedAt.count) }
    }

    fileprivate func next(consumer: Int) async -> QueueDelivery? {
        await withCheckedContinuation { (c: CheckedContinuation<QueueDelivery?, Never>) in
            let ready: QueueDelivery?? = state.withLockedValue { s in
                // A closed consumer still gets what is queued (a graceful stop delivers everything
                // accepted), then nil.
                if let item = s.items.popFirst() { return .some(item) }
                if s.closed || s.closedConsumers.contains(consumer) { return .some(nil) }
                s.waiters.append((consumer, c))
                return .none
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    fileprivate func nextBatch(consumer: Int, max: Int) async -> [QueueDelivery] {
        guard let first = await next(consumer: consumer) else { return [] }
        guard max > 1 else { return [first] }
        return state.withLockedValue { s in
            let n = min(max - 1, s.items.count)
            defer { s.items.removeFirst(n) }
            return [first] + s.items.prefix(n)
        }
    }

    private static func millis(_ d: Duration) -> Int64 { d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000 }

    fileprivate func acknowledge(_ position: UInt64) {
        state.withLockedValue { s in
            s.acknowledged += 1
            Self.markDone(position, in: &s)
        }
    }

    /// The message at `position` no longer counts as outstanding; false if it did not.
    @discardableResult
    private static func markDone(_ position: UInt64, in s: inout State) -> Bool {
        guard position >= s.outstandingBase, position < s.outstandingBase + UInt64(s.publishedAt.count),
            s.acknowledgedAhead.insert(position).inserted
        else { return false }
        while s.acknowledgedAhead.remove(s.outstandingBase) != nil {
            s.publishedAt.removeFirst()
            s.outstandingBase += 1
        }
        return true
    }

    /// Ends every consumer (shutdown), or only `consumer`; their pending ``next()`` return nil.
    fileprivate func closeAll(only consumer: Int? = nil) {
        let waiters = state.withLockedValue { s in
            if let consumer { s.closedConsumers.insert(consumer) } else { s.closed = true }
            let ending = s.waiters.filter { consumer == nil || $0.consumer == consumer }
            s.waiters.removeAll { consumer == nil || $0.consumer == consumer }
            return ending
        }
        for w in waiters { w.continuation.resume(returning: nil) }
    }

    /// One consumer; several share the queue's messages (each message goes to one of them).
    private struct Consumer: QueueConsumer {
        let queue: MemoryQueue
        let id: Int
        func next() async throws -> QueueDelivery? { await queue.next(consumer: id) }
        func nextBatch(max: Int) async throws -> [QueueDelivery] { await queue.nextBatch(consumer: id, max: max) }
        func acknowledge(_ delivery: QueueDelivery) async throws { queue.acknowledge(delivery.position) }
        func close() async { queue.closeAll(only: id) }
    }
}
