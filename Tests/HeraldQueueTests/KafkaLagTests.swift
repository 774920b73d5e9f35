import Foundation
import HeraldCore
import HeraldProtocol
import HeraldTesting
import Testing

@testable import HeraldQueueKafka

@Suite("Kafka consumer lag (development broker)")
struct KafkaLagTests {
    @Test("lag counts what the member has not taken yet and falls to 0 once it has taken everything")
    func lagFollowsTheBacklog() async throws {
        let queue = try SharedDevBroker.queue(partitions: 2, extra: "max_buffered = 5")
        defer { Task { await queue.shutdown() } }
        let consumer = try #require(try await queue.makeConsumer() as? KafkaConsumer)
        var first = PushMsg()
        first.type = .push
        first.keys = ["warm-up"]
        try await queue.publish(first)
        // The first message arriving proves the assignment and the fetch position exist.
        _ = try await QueueConformance.receive(1, from: consumer, acknowledge: true)

        // 300 more while the job takes nothing: the buffer (5) fills, the member stops taking.
        for i in 0..<300 {
            var m = PushMsg()
            m.type = .push
            m.keys = ["k\(i)"]
            try await queue.publish(m)
        }
        var backlog: Int64 = 0
        let deadline = ContinuousClock.now + .seconds(20)
        while backlog < 250, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            backlog = consumer.lag() ?? 0
        }
        #expect(backlog >= 250, "300 published, at most 5 buffered and a few in librdkafka's hands: lag \(backlog)")

        _ = try await QueueConformance.receive(300, from: consumer, acknowledge: true)
        var drained: Int64 = -1
        let until = ContinuousClock.now + .seconds(20)
        while drained != 0, ContinuousClock.now < until {
            try await Task.sleep(for: .milliseconds(100))
            drained = consumer.lag() ?? -1
        }
        #expect(drained == 0, "everything taken: lag \(drained)")
        await consumer.close()
    }
}
