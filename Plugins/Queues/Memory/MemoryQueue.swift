import DequeModule
public import HeraldCore
public import HeraldProtocol
import NIOConcurrencyHelpers

/// The `memory` queue plugin: an in-process bounded queue between logic and job.
///
/// Not durable and no redelivery: what is queued is lost if the process stops. When the queue
/// holds `capacity` messages, publishing fails (the API answers -500) rather than dropping silently.
public final class MemoryQueue: QueueBackend {
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
    }

    private let state = NIOLockedValueBox(State())

    public init(name: String = "memory", capacity: Int = 65536) {
        self.name = name
        self.capacity = capacity
    }

    /// Registers the plugin under `memory`. Config: `capacity` (default 65536).
    public static func register(in registry: inout PluginRegistry) {
        registry.registerQueue("memory") { context in
            MemoryQueue(name: context.name, capacity: try context.config.int("capacity", default: 65536, in: 1...(1 << 26)))
        }
    }

    public func publish(_ message: PushMsg) async throws {
        let waiter: (CheckedContinuation<QueueDelivery?, Never>, QueueDelivery)? = try state.withLockedValue { s in
            guard !s.closed else { throw QueueError("memory queue is shut down") }
            let delivery = QueueDelivery(message: message, position: s.nextPosition)
            s.nextPosition += 1
            s.published += 1
            if let w = s.waiters.popFirst() { return (w.continuation, delivery) }
            guard s.items.count < capacity else {
                s.published -= 1
                throw QueueError("memory queue is full (capacity \(capacity))")
            }
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

    /// Messages published and acknowledged so far.
    public var counts: (published: Int, acknowledged: Int, queued: Int) {
        state.withLockedValue { ($0.published, $0.acknowledged, $0.items.count) }
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

    fileprivate func acknowledge() {
        state.withLockedValue { $0.acknowledged += 1 }
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
        func acknowledge(_ delivery: QueueDelivery) async throws { queue.acknowledge() }
        func close() async { queue.closeAll(only: id) }
    }
}
