@testable import HeraldJob
import HeraldCore
import HeraldProtocol
import NIOConcurrencyHelpers
import NIOCore
import Testing

@Suite("room batcher")
struct RoomBatcherTests {
    /// A flight that blocks until released, recording the batches it carried.
    final class Gate: Sendable {
        let batches = NIOLockedValueBox<[(String, Int)]>([])
        let acked = NIOLockedValueBox<[UInt64]>([])
        let open = NIOLockedValueBox(false)

        func fly(room: String, batch: ByteBuffer) async {
            batches.withLockedValue { $0.append((room, try! PacketBatch.split(batch).count)) }
            while !open.withLockedValue({ $0 }) { try? await Task.sleep(for: .milliseconds(2)) }
        }
    }

    static func packet(_ i: Int) -> ByteBuffer {
        var b = ByteBuffer()
        b.writePacket(Packet(operation: Operation(1000), body: ByteBuffer(string: "m\(i)")))
        return b
    }

    static func delivery(_ i: Int) -> QueueDelivery { QueueDelivery(message: PushMsg(), position: UInt64(i)) }

    @Test("the first message flies at once; messages behind an in-flight batch merge into one")
    func merges() async throws {
        let gate = Gate()
        let batcher = RoomBatcher(
            maxBatchBytes: 1 << 20,
            maxQueuedBytes: 1 << 20,
            flight: { room, batch in await gate.fly(room: room, batch: batch) },
            acknowledge: { ds in gate.acked.withLockedValue { $0 += ds.map(\.position) } }
        )
        await batcher.enqueue(room: "r", packet: Self.packet(0), delivery: Self.delivery(0))
        try await Task.sleep(for: .milliseconds(20))
        #expect(gate.batches.withLockedValue { $0.map(\.1) } == [1])
        for i in 1...5 { await batcher.enqueue(room: "r", packet: Self.packet(i), delivery: Self.delivery(i)) }
        #expect(gate.acked.withLockedValue { $0 }.isEmpty, "nothing is acknowledged before its flight completes")
        gate.open.withLockedValue { $0 = true }
        await batcher.waitUntilIdle()
        #expect(gate.batches.withLockedValue { $0.map(\.1) } == [1, 5])
        #expect(gate.acked.withLockedValue { $0 } == [0, 1, 2, 3, 4, 5])
    }

    @Test("batches respect the byte limit, in order")
    func byteLimit() async throws {
        let gate = Gate()
        let one = Self.packet(0).readableBytes
        let batcher = RoomBatcher(
            maxBatchBytes: one * 2,
            maxQueuedBytes: 1 << 20,
            flight: { room, batch in await gate.fly(room: room, batch: batch) },
            acknowledge: { ds in gate.acked.withLockedValue { $0 += ds.map(\.position) } }
        )
        for i in 0..<6 { await batcher.enqueue(room: "r", packet: Self.packet(i), delivery: Self.delivery(i)) }
        gate.open.withLockedValue { $0 = true }
        await batcher.waitUntilIdle()
        #expect(gate.batches.withLockedValue { $0.map(\.1) } == [1, 2, 2, 1])
        #expect(gate.acked.withLockedValue { $0 } == [0, 1, 2, 3, 4, 5])
    }
}
