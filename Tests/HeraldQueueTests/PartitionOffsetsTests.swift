import Testing

@testable import HeraldQueueKafka

@Suite("Kafka offset tracking")
struct PartitionOffsetsTests {
    @Test("commits only past the finished prefix, whatever order acknowledgements come in")
    func prefix() {
        var t = PartitionOffsets()
        for o in Int64(10)...14 { t.received(partition: 0, offset: o) }
        let r1 = t.acknowledge(partition: 0, offset: 12)
        #expect(r1 == nil)
        let r2 = t.acknowledge(partition: 0, offset: 11)
        #expect(r2 == nil)
        let r3 = t.acknowledge(partition: 0, offset: 10)
        #expect(r3 == 13)
        let r4 = t.acknowledge(partition: 0, offset: 14)
        #expect(r4 == nil)
        let r5 = t.acknowledge(partition: 0, offset: 13)
        #expect(r5 == 15)
        #expect(t.inFlightCount == 0)
    }

    @Test("partitions are independent")
    func partitions() {
        var t = PartitionOffsets()
        t.received(partition: 0, offset: 5)
        t.received(partition: 1, offset: 7)
        let r6 = t.acknowledge(partition: 1, offset: 7)
        #expect(r6 == 8)
        #expect(t.inFlightCount == 1)
        let r7 = t.acknowledge(partition: 0, offset: 5)
        #expect(r7 == 6)
    }

    @Test("after a revocation, late acknowledgements commit nothing")
    func revoke() {
        var t = PartitionOffsets()
        t.received(partition: 2, offset: 1)
        t.revoke([2])
        let r8 = t.acknowledge(partition: 2, offset: 1)
        #expect(r8 == nil)
    }

    @Test("an offset handed out again counts as a redelivery; a fetch from an older offset restarts tracking")
    func redelivery() {
        var t = PartitionOffsets()
        t.received(partition: 0, offset: 1)
        t.received(partition: 0, offset: 2)
        t.handedOut(partition: 0, offset: 1)
        #expect(t.redelivered == 0)
        t.received(partition: 0, offset: 1)
        let again = t.handedOut(partition: 0, offset: 1)
        #expect(again)
        #expect(t.redelivered == 1)
        #expect(t.inFlightCount == 1)
        let r9 = t.acknowledge(partition: 0, offset: 1)
        #expect(r9 == 2)
    }
}
