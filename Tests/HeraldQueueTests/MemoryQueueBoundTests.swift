import Foundation
import HeraldCore
import HeraldProtocol
import HeraldQueueMemory
import Testing

/// The memory queue's bounds: in count and in time, from publish to acknowledgement. A push the
/// queue cannot take in time is refused at once, saying when to retry (the API's 503).
@Suite("memory queue bounds")
struct MemoryQueueBoundTests {
    static func push(_ i: Int) -> PushMsg {
        var m = PushMsg()
        m.type = .push
        m.operation = 1000
        m.server = "c"
        m.keys = ["k\(i)"]
        m.msg = Data("m\(i)".utf8)
        return m
    }

    static func refusal(_ queue: MemoryQueue, _ message: PushMsg) async -> QueueError? {
        do {
            try await queue.publish(message)
            return nil
        } catch let error as QueueError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test(
        "a message outstanding longer than max_delay makes the next publish fail at once with retry-after; acknowledging it opens the queue again"
    )
    func maxDelay() async throws {
        // A bound far above how long the three publishes below can take on a loaded machine.
        let queue = MemoryQueue(capacity: 100, maxDelay: .seconds(1))
        let consumer = try await queue.makeConsumer()
        try await queue.publish(Self.push(0))
        try await queue.publish(Self.push(1))
        // Consumed but not yet acknowledged: still outstanding (a backlog in the job counts).
        let taken = try await consumer.nextBatch(max: 10)
        #expect(taken.map(\.message.msg) == [Data("m0".utf8), Data("m1".utf8)])
        try await queue.publish(Self.push(2))  // within max_delay: accepted
        try await Task.sleep(for: .milliseconds(1200))
        let refused = try #require(await Self.refusal(queue, Self.push(3)), "behind by more than max_delay: refused")
        #expect(refused.retryAfter == .seconds(1))
        #expect(refused.message.contains("max_delay"))
        #expect(queue.counts.published == 3, "the refused message was not queued")
        // Acknowledged out of order: the oldest still holds the queue shut.
        try await consumer.acknowledge(taken[1])
        #expect(await Self.refusal(queue, Self.push(4)) != nil)
        try await consumer.acknowledge(taken[0])
        // m2 (queued, published over a second ago) is now the oldest outstanding: still behind.
        #expect(await Self.refusal(queue, Self.push(5)) != nil)
        let last = try await consumer.nextBatch(max: 10)
        #expect(last.map(\.message.msg) == [Data("m2".utf8)])
        try await consumer.acknowledge(last[0])
        #expect(await Self.refusal(queue, Self.push(6)) == nil, "nothing outstanding: accepted")
        #expect(queue.counts.outstanding == 1)
        await consumer.close()
        await queue.shutdown()
    }

    @Test("capacity counts messages not yet acknowledged, consumed or not")
    func capacity() async throws {
        let queue = MemoryQueue(capacity: 2, maxDelay: .zero)
        let consumer = try await queue.makeConsumer()
        try await queue.publish(Self.push(0))
        try await queue.publish(Self.push(1))
        let taken = try await consumer.nextBatch(max: 1)
        #expect(taken.count == 1)
        let refused = try #require(await Self.refusal(queue, Self.push(2)))
        #expect(refused.retryAfter != nil && refused.message.contains("capacity"))
        try await consumer.acknowledge(taken[0])
        #expect(await Self.refusal(queue, Self.push(3)) == nil)
        await consumer.close()
        await queue.shutdown()
    }

    @Test("a paced broadcast, slow by design, does not count as a backlog")
    func pacedBroadcast() async throws {
        let queue = MemoryQueue(capacity: 100, maxDelay: .milliseconds(100))
        let consumer = try await queue.makeConsumer()
        var paced = Self.push(0)
        paced.type = .broadcast
        paced.speed = 10
        try await queue.publish(paced)
        let taken = try await consumer.nextBatch(max: 10)
        #expect(taken.count == 1)
        try await Task.sleep(for: .milliseconds(200))
        #expect(await Self.refusal(queue, Self.push(1)) == nil, "the paced broadcast still running does not shut the queue")
        try await consumer.acknowledge(taken[0])
        await consumer.close()
        await queue.shutdown()
    }

    @Test("nextBatch waits for the first message, then takes what is there, in order, up to max")
    func nextBatch() async throws {
        let queue = MemoryQueue()
        let consumer = try await queue.makeConsumer()
        let waiting = Task { try await consumer.nextBatch(max: 3) }
        try await Task.sleep(for: .milliseconds(50))
        try await queue.publish(Self.push(0))
        #expect(try await waiting.value.map(\.message.msg) == [Data("m0".utf8)])
        for i in 1...5 { try await queue.publish(Self.push(i)) }
        #expect(try await consumer.nextBatch(max: 3).map(\.message.msg) == (1...3).map { Data("m\($0)".utf8) })
        #expect(try await consumer.nextBatch(max: 3).map(\.message.msg) == (4...5).map { Data("m\($0)".utf8) })
        await consumer.close()
        #expect(try await consumer.nextBatch(max: 3).isEmpty, "closed: empty")
        await queue.shutdown()
    }
}
