import HeraldCore
import HeraldProtocol
import Logging
import NIOCore
import Testing

@testable import HeraldComet

@Suite("comet deduplication")
struct DeliveryDeduplicatorTests {
    @Test("a sequence window tells new from repeated numbers, in and out of order, and gives up below its span")
    func window() {
        var w = SequenceWindow(capacity: 128)
        #expect(w.capacity == 128)
        #expect([5, 3, 5, 3, 4, 6, 1].map { w.insert($0) } == [.new, .new, .duplicate, .duplicate, .new, .new, .new])
        #expect(w.insert(1000) == .new)
        #expect(w.insert(6) == .tooOld, "872 below the highest: outside a 128-number window")
        #expect(w.insert(1000 - 127) == .new, "the lowest number the window still covers")
        #expect(w.insert(1000 - 127) == .duplicate)
        #expect(w.insert(999) == .new, "numbers skipped by a jump are not taken as seen")
        #expect(w.insert(1000 + (1 << 33)) == .tooOld, "a leap of billions (a forged number) is delivered without moving the window")
        #expect(w.insert(1000) == .duplicate, "the window still follows the real numbers")
        #expect(w.insert(1001) == .new)
    }

    @Test("a window reused across many jumps forgets the numbers it skipped over, word by word")
    func jumps() {
        var w = SequenceWindow(capacity: 256)
        var expected: [UInt64: Bool] = [:]
        var recent: [UInt64] = []
        var seq: UInt64 = 0
        // Every number arrives once, in strides of 1 to 300 with stragglers behind: none may be a duplicate.
        for step in 0..<2000 {
            seq += UInt64(1 + (step * 37) % 300)
            #expect(w.insert(seq) == .new, "\(seq)")
            expected[seq] = true
            let straggler = seq - UInt64(step % 200) - 1
            if straggler > 0, expected[straggler] == nil, seq - straggler < 256 {
                #expect(w.insert(straggler) == .new, "straggler \(straggler) below \(seq)")
                expected[straggler] = true
            }
            #expect(w.insert(seq) == .duplicate)
            // The numbers inserted lately and still inside the window must still read as seen (a
            // short list: this test runs on the shared cooperative pool, it must stay cheap).
            recent.append(seq)
            if recent.count > 8 { recent.removeFirst() }
            for old in recent where old < seq && seq - old < 256 {
                #expect(w.insert(old) == .duplicate, "\(old) forgotten below \(seq)")
            }
        }
    }

    static func unit(_ seqs: [UInt64?], origin: String = "logic-a") -> PushUnit {
        var unit: PushUnit?
        for (i, seq) in seqs.enumerated() {
            var msg = PushMsg()
            msg.operation = 1000
            msg.msg = .init("m\(i)".utf8)
            if let seq {
                msg.heraldOrigin = origin
                msg.heraldSeq = seq
            }
            let one = PushUnit(message: msg)
            if unit == nil { unit = one } else { unit!.append(one) }
        }
        return unit!
    }

    static func bodies(_ unit: PushUnit) throws -> [String] {
        try PacketBatch.split(unit.packets).map { String(buffer: $0.body) }
    }

    @Test("a batch loses exactly the packets delivered before; packets without an identity always pass")
    func batches() throws {
        let d = DeliveryDeduplicator(window: 1024, maxOrigins: 4, logger: Logger(label: "test"))
        let first = try #require(d.admit(Self.unit([1, 2, 3])))
        #expect(try Self.bodies(first) == ["m0", "m1", "m2"])
        let second = try #require(d.admit(Self.unit([2, nil, 4, 3])))
        #expect(try Self.bodies(second) == ["m1", "m2"], "2 and 3 dropped, the anonymous packet and 4 kept")
        #expect(second.count == 2 && second.identities == [nil, MessageIdentity(origin: "logic-a", seq: 4)])
        #expect(d.admit(Self.unit([1, 4])) == nil, "nothing left")
        #expect(d.admit(Self.unit([nil, nil])) != nil)
        #expect(d.admit(Self.unit([1], origin: "logic-b")) != nil, "origins are counted apart")
        #expect(d.counts.duplicates == 4)
    }

    @Test("origins beyond the limit evict the one seen least recently")
    func origins() throws {
        let d = DeliveryDeduplicator(window: 1024, maxOrigins: 2, logger: Logger(label: "test"))
        _ = d.admit(Self.unit([1], origin: "a"))
        _ = d.admit(Self.unit([1], origin: "b"))
        _ = d.admit(Self.unit([2], origin: "a"))  // a is now the most recent
        _ = d.admit(Self.unit([1], origin: "c"))  // evicts b
        #expect(d.admit(Self.unit([1], origin: "a")) == nil, "a is remembered")
        #expect(d.admit(Self.unit([1], origin: "b")) != nil, "b was forgotten")
    }
}
