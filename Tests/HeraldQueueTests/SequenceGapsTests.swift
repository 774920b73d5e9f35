import Foundation
import HeraldCore
import HeraldProtocol
import HeraldTesting
import Logging
import Testing

@testable import HeraldQueueZeroMQ

@Suite("ZeroMQ loss accounting")
struct SequenceGapsTests {
    @Test("reordering within the grace is not a loss; a number overdue past it is")
    func gaps() {
        var g = SequenceGaps(grace: .seconds(5))
        let t0 = ContinuousClock.now
        let a = g.record(origin: "o", seq: 1, now: t0)
        let b = g.record(origin: "o", seq: 3, now: t0)
        let c = g.record(origin: "o", seq: 2, now: t0 + .seconds(1))
        let d = g.record(origin: "o", seq: 6, now: t0 + .seconds(2))
        let e = g.record(origin: "o", seq: 7, now: t0 + .seconds(8))
        #expect([a, b, c, d] == [0, 0, 0, 0])
        #expect(e == 2, "4 and 5 never came")
    }

    @Test("origins are independent; a huge jump counts at once")
    func origins() {
        var g = SequenceGaps()
        _ = g.record(origin: "a", seq: 1)
        _ = g.record(origin: "b", seq: 1)
        #expect(g.record(origin: "b", seq: 2) == 0)
        #expect(g.record(origin: "a", seq: 20_003) == 20_001)
    }
}

@Suite("ZeroMQ high-water mark policy")
struct ZeroMQHighWaterMarkTests {
    @Test("with no job reading, publishes block at most send_timeout past the high-water mark, then fail")
    func blocksThenFails() async throws {
        var logger = Logger(label: "test.zeromq")
        logger.logLevel = .error
        // A job endpoint nobody listens on: zmq queues up to the high-water mark, then the publish waits.
        let port = TestPorts.block(1)
        let table = try ConfigLoader.parse(
            """
            bind = ""
            connect = ["tcp://127.0.0.1:\(port)"]
            send_hwm = 20
            send_timeout = "200ms"
            linger = "0s"
            """)
        let q = try ZeroMQQueue(configuration: ZeroMQConfiguration(table), logger: logger)
        var m = PushMsg()
        m.type = .room
        m.room = "r"
        var accepted = 0
        var failure: (any Error)?
        for _ in 0..<200 {
            do {
                try await q.publish(m)
                accepted += 1
            } catch {
                failure = error
                break
            }
        }
        #expect(accepted >= 20 && accepted < 200, "accepted \(accepted) before the mark")
        #expect("\(failure.map { "\($0)" } ?? "")".contains("high-water mark"))
        #expect(q.publishedCount == accepted)
        await q.shutdown()
    }
}

@Suite("ZeroMQ loss counting")
struct ZeroMQLossCountingTests {
    @Test(
        "losses are counted per sending socket: messages whose herald_seq skips numbers (another backend or endpoint carried those) are no loss"
    )
    func perStream() async throws {
        var logger = Logger(label: "test.zeromq")
        logger.logLevel = .error
        let q = try ZeroMQQueue(configuration: ZeroMQConfiguration(ConfigLoader.parse(#"bind = "tcp://127.0.0.1:*""#)), logger: logger)
        // One logic's numbers, most of them sent elsewhere (kafka for pushes, another job endpoint).
        for seq: UInt64 in [1, 2, 50_000, 120_000, 120_001] {
            var m = PushMsg()
            m.type = .room
            m.room = "r"
            m.heraldOrigin = "logic-a"
            m.heraldSeq = seq
            try await q.publish(m)
        }
        let consumer = try await q.makeConsumer()
        let got = try await QueueConformance.receive(5, from: consumer, acknowledge: true, within: .seconds(10))
        #expect(got.map(\.message.heraldSeq) == [1, 2, 50_000, 120_000, 120_001])
        #expect(got.map(\.message.heraldStreamSeq) == [1, 2, 3, 4, 5], "the socket numbered what it sent, consecutively")
        #expect(q.lostCount == 0, "jumps in herald_seq are not losses on this stream")
        await consumer.close()
        await q.shutdown()
    }
}
