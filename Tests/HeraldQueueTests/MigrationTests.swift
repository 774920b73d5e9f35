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

    @Test("the comparator passes first copies, counts duplicates, twins' lag and missing twins per phase")
    func comparator() async throws {
        let c = MigrationComparator(phase: .dualRead, window: 1000, twinTimeout: .milliseconds(50))
        #expect(c.admit(Self.message(1), from: .primary))
        #expect(!c.admit(Self.message(1), from: .secondary))
        #expect(c.admit(Self.message(2), from: .secondary))
        try await Task.sleep(for: .milliseconds(80))
        c.sweep()
        let f = try #require(c.snapshot()[.dualRead])
        #expect(f.seenPrimary == 1 && f.seenSecondary == 2)
        #expect(f.delivered == 2 && f.duplicatesSuppressed == 1)
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

    @Test("dual-read delivers each message once although both backends carry it")
    func dualRead() async throws {
        let q = Self.queue(phase: .dualRead)
        for i in 1...50 { try await q.publish(Self.message(UInt64(i))) }
        let consumer = try await q.makeConsumer()
        let got = try await QueueConformance.receive(50, from: consumer, acknowledge: true, within: .seconds(10))
        #expect(Set(got.map(\.message.msg)).count == 50)
        // Both copies of every message have been seen once the second backend's copies are suppressed.
        let deadline = ContinuousClock.now + .seconds(5)
        while (q.figures()[.dualRead]?.duplicatesSuppressed ?? 0) < 50, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(q.figures()[.dualRead]?.duplicatesSuppressed == 50)
        #expect(q.figures()[.dualRead]?.delivered == 50)
        let extra = try await QueueConformance.receive(1, from: consumer, acknowledge: true, within: .milliseconds(300))
        #expect(extra.isEmpty, "no second copy")
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
