import Foundation
import HeraldCore
import HeraldProtocol
@testable import HeraldQueueMigration
import HeraldQueueMemory
import HeraldTesting
import Logging
import Testing

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
        #expect(primary.counts.acknowledged == 50 && secondary.counts.acknowledged == 50, "each copy acknowledged to the backend it came from")
        await q.shutdown()
    }

    @Test("a phase moves one step at a time; other changed keys are reported as needing a restart")
    func reload() async throws {
        let q = Self.queue(phase: .primaryOnly)
        await #expect(throws: ConfigError.self) {
            _ = try await q.reload(ConfigLoader.parse("primary = \"memory\"\nsecondary = \"memory-b\"\nphase = \"dual-read\""))
        }
        #expect(q.phase == .primaryOnly)
        let restart = try await q.reload(ConfigLoader.parse("primary = \"memory\"\nsecondary = \"memory-c\"\nphase = \"dual-write\""))
        #expect(q.phase == .dualWrite)
        #expect(restart == ["secondary"])
        await q.shutdown()
    }
}
