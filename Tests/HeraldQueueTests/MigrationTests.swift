import Foundation
import HeraldApp
import HeraldCore
import HeraldPluginSupport
import HeraldProtocol
import HeraldQueueMemory
import HeraldQueueZeroMQ
import HeraldTesting
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import HeraldQueueMigration

@Suite("Migration queue")
struct MigrationTests {
    @Test("the dedup window forgets the oldest ids first")
    func window() {
        var w = DedupWindow(capacity: 2)
        let a = MessageID(origin: "o", seq: 1)
        let b = MessageID(origin: "o", seq: 2)
        let c = MessageID(origin: "o", seq: 3)
        let results = [w.insert(a), w.insert(a), w.insert(b), w.insert(c), w.insert(a)]
        #expect(results == [true, false, true, true, true], "a was forgotten after b and c")
        #expect(w.count == 2)
    }

    @Test("phases: what is published and consumed")
    func phases() {
        #expect(MigrationPhase.primaryOnly.publishesPrimary && !MigrationPhase.primaryOnly.publishesSecondary)
        #expect(MigrationPhase.dualWrite.publishesSecondary && !MigrationPhase.dualWrite.consumesSecondary)
        #expect(MigrationPhase.dualRead.consumesPrimary && MigrationPhase.dualRead.consumesSecondary)
        #expect(!MigrationPhase.secondaryOnly.publishesPrimary && !MigrationPhase.secondaryOnly.consumesPrimary)
    }

    static func message(_ seq: UInt64) -> PushMsg {
        var m = PushMsg()
        m.type = .push
        m.keys = ["k"]
        m.msg = Data("\(seq)".utf8)
        m.heraldOrigin = "logic-a"
        m.heraldSeq = seq
        return m
    }

    @Test("the comparator tells first from second copies, counts twins' lag and missing twins per phase")
    func comparator() async throws {
        let c = MigrationComparator(phase: .dualRead, window: 1000, twinTimeout: .milliseconds(50))
        #expect(c.observe(Self.message(1), from: .primary))
        #expect(!c.observe(Self.message(1), from: .secondary))
        #expect(c.observe(Self.message(2), from: .secondary))
        try await Task.sleep(for: .milliseconds(80))
        c.sweep()
        let f = try #require(c.snapshot()[.dualRead])
        #expect(f.seenPrimary == 1 && f.seenSecondary == 2)
        #expect(f.delivered == 2 && f.secondCopies == 1)
        #expect(f.lagCount == 1)
        #expect(f.missingOnPrimary == 1 && f.missingOnSecondary == 0)
    }

    static func queue(phase: MigrationPhase) -> MigrationQueue {
        var logger = Logger(label: "test.migration")
        logger.logLevel = .warning
        let table = try! ConfigLoader.parse("primary = \"memory\"\nsecondary = \"memory-b\"\nphase = \"\(phase.rawValue)\"")
        return MigrationQueue(
            configuration: try! MigrationConfiguration(table),
            primary: MemoryQueue(name: "memory"),
            secondary: MemoryQueue(name: "memory-b"),
            logger: logger
        )
    }

    @Test("dual-read hands on both copies of every message, each acknowledged to its own backend; the comparator pairs them")
    func dualRead() async throws {
        let q = Self.queue(phase: .dualRead)
        for i in 1...50 { try await q.publish(Self.message(UInt64(i))) }
        let consumer = try await q.makeConsumer()
        let got = try await QueueConformance.receive(100, from: consumer, acknowledge: true, within: .seconds(10))
        #expect(got.count == 100, "both copies reach the job (the comets drop the second)")
        var copies: [Data: Int] = [:]
        for d in got { copies[d.message.msg, default: 0] += 1 }
        #expect(copies.count == 50 && copies.values.allSatisfy { $0 == 2 }, "every message twice, none more")
        #expect(q.figures()[.dualRead]?.secondCopies == 50)
        #expect(q.figures()[.dualRead]?.delivered == 50)
        let extra = try await QueueConformance.receive(1, from: consumer, acknowledge: true, within: .milliseconds(300))
        #expect(extra.isEmpty, "no third copy")
        let primary = q.primary as! MemoryQueue
        let secondary = q.secondary as! MemoryQueue
        #expect(
            primary.counts.acknowledged == 50 && secondary.counts.acknowledged == 50, "each copy acknowledged to the backend it came from")
        await q.shutdown()
    }

    @Test("a phase moves one step at a time; the phase is the only live key, the other keys keep their start-up values")
    func reload() async throws {
        let q = Self.queue(phase: .primaryOnly)
        await #expect(throws: ConfigError.self) {
            _ = try await q.reload(ConfigLoader.parse("primary = \"memory\"\nsecondary = \"memory-b\"\nphase = \"dual-read\""))
        }
        #expect(q.phase == .primaryOnly)
        try await q.reload(ConfigLoader.parse("primary = \"memory\"\nsecondary = \"memory-c\"\nphase = \"dual-write\""))
        #expect(q.phase == .dualWrite)
        #expect(q.liveKeys == ["phase"])
        #expect((q.secondary as! MemoryQueue).name == "memory-b", "the secondary stays until a restart")
        await q.shutdown()
    }

    static func quiet(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .critical
        return logger
    }

    @Test(
        "dual-write with a secondary that takes nothing (zeromq, no consumer, full high-water mark): pushes go on at the primary's pace, excess copies are skipped and counted"
    )
    func dualWriteSecondaryFull() async throws {
        // A publish-only zeromq side whose peer never connects: once its 2-message high-water mark
        // is full, every send waits 10 minutes. A push that waited for it would hang this test.
        let zmq = try ZeroMQQueue(
            configuration: ZeroMQConfiguration(
                ConfigLoader.parse(
                    """
                    bind = ""
                    connect = ["tcp://127.0.0.1:\(TestPorts.block(1))"]
                    send_hwm = 2
                    send_timeout = "10m"
                    linger = "0s"
                    """
                )
            ),
            logger: Self.quiet("test.zeromq")
        )
        let table = try ConfigLoader.parse(
            "primary = \"memory\"\nsecondary = \"zeromq\"\nphase = \"dual-write\"\nsecondary_wait = \"20ms\"\nsecondary_in_flight = 8\nreport_interval = \"1h\""
        )
        let primary = MemoryQueue(name: "memory", capacity: 10_000)
        let q = MigrationQueue(
            configuration: try MigrationConfiguration(table), primary: primary, secondary: zmq, logger: Self.quiet("test.migration"))
        let published = Task {
            for i in 1...200 { try await q.publish(Self.message(UInt64(i))) }
        }
        let guardTask = Task {
            try await Task.sleep(for: .seconds(120))
            published.cancel()
        }
        try await published.value
        guardTask.cancel()
        #expect(primary.counts.published == 200, "every push reached the primary")
        #expect(q.secondarySkippedCount > 0, "copies beyond secondary_in_flight were skipped, counted")
        let consumer = try await q.makeConsumer()
        let got = try await QueueConformance.receive(200, from: consumer, acknowledge: true, within: .seconds(10))
        #expect(Set(got.map(\.message.heraldSeq)) == Set(1...200), "the job consumes all of them from the primary")
        await consumer.close()
    }

    /// A backend whose consumer cannot be opened while `failing` is set (a broker that refuses).
    final class FlakyBackend: QueueBackend, @unchecked Sendable {
        let inner = MemoryQueue(name: "flaky", capacity: 10_000)
        let failing = NIOLockedValueBox(false)
        var name: String { "flaky" }
        var guarantees: QueueGuarantees { inner.guarantees }
        func publish(_ message: PushMsg) async throws { try await inner.publish(message) }
        func makeConsumer() async throws -> any QueueConsumer {
            if failing.withLockedValue({ $0 }) { throw QueueError("consumer refused by the test") }
            return try await inner.makeConsumer()
        }
        func shutdown() async { await inner.shutdown() }
    }

    @Test("a phase change whose consumer cannot be opened leaves the phase as it was, and a second try succeeds")
    func phaseChangeRollsBack() async throws {
        let secondary = FlakyBackend()
        let table = { (phase: String) in
            try ConfigLoader.parse("primary = \"memory\"\nsecondary = \"flaky\"\nphase = \"\(phase)\"\nreport_interval = \"1h\"")
        }
        let q = MigrationQueue(
            configuration: try MigrationConfiguration(table("dual-write")), primary: MemoryQueue(name: "memory"), secondary: secondary,
            logger: Self.quiet("test.migration"))
        let consumer = try await q.makeConsumer()
        secondary.failing.withLockedValue { $0 = true }
        await #expect(throws: QueueError.self) { _ = try await q.reload(table("dual-read")) }
        #expect(q.phase == .dualWrite, "publishing did not switch while consuming could not")
        try await q.publish(Self.message(1))
        #expect(secondary.inner.counts.published == 1, "dual-write still copies to the secondary")
        secondary.failing.withLockedValue { $0 = false }
        _ = try await q.reload(table("dual-read"))
        #expect(q.phase == .dualRead)
        try await q.publish(Self.message(2))
        let got = try await QueueConformance.receive(4, from: consumer, acknowledge: true, within: .seconds(5))
        #expect(got.map(\.message.heraldSeq).sorted() == [1, 1, 2, 2], "both copies of both messages, now that both backends are consumed")
        await consumer.close()
        await q.shutdown()
    }
}

extension MigrationTests {
    @Test("a class-routed queue passes a reload on to its migration backend")
    func classRoutedReload() async throws {
        let migration = Self.queue(phase: .primaryOnly)
        let routed = try ClassRoutedQueue(
            push: "memory-x", room: "migration", broadcast: "memory-x",
            backends: ["memory-x": MemoryQueue(name: "memory-x"), "migration": migration]
        )
        try await routed.reload(tables: [
            "migration": ConfigLoader.parse("primary = \"memory\"\nsecondary = \"memory-b\"\nphase = \"dual-write\"")
        ])
        #expect(migration.phase == .dualWrite)
        #expect(routed.liveKeys == ["migration.phase"])
        await routed.shutdown()
    }
}

extension MigrationTests {
    @Test("closing a fan-in hands the job what its sources still held, then ends; nothing is dropped")
    func fanInDrains() async throws {
        let memory = MemoryQueue(name: "memory", capacity: 10_000)
        for i in 1...40 { try await memory.publish(Self.message(UInt64(i))) }
        let fanIn = ConsumerFanIn(capacity: 8)
        fanIn.add("memory", try await memory.makeConsumer())
        var got: [UInt64] = []
        for _ in 0..<5 {
            let d = try #require(try await fanIn.next())
            got.append(d.message.heraldSeq)
            try await fanIn.acknowledge(d)
        }
        let closing = Task { await fanIn.close() }
        while let d = try await fanIn.next() {
            got.append(d.message.heraldSeq)
            try await fanIn.acknowledge(d)
        }
        await closing.value
        #expect(got == Array(1...40), "all 40, in order: the 35 not yet taken were handed over, not dropped")
        #expect(memory.counts.acknowledged == 40)
    }

    @Test("a finished delivery buffer hands out what it holds, refuses more, then ends")
    func bufferFinish() async throws {
        let buffer = DeliveryBuffer(capacity: 10)
        for i in 1...3 { #expect(buffer.offer(QueueDelivery(message: Self.message(UInt64(i)), position: UInt64(i)))) }
        buffer.finish()
        #expect(!buffer.offer(QueueDelivery(message: Self.message(4), position: 4)), "no offers after finish")
        #expect(buffer.isFull, "a polling thread stops fetching")
        var got: [UInt64] = []
        while let d = await buffer.next() { got.append(d.position) }
        #expect(got == [1, 2, 3])
    }
}
