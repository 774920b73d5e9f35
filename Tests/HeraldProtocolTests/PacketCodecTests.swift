import HeraldProtocol
import NIOCore
import NIOTestUtils
import Testing

@Suite("goim packet codec")
struct PacketCodecTests {
    static let samples: [Packet] = [
        Packet(version: 1, operation: .auth, sequence: 1, body: ByteBuffer(string: #"{"mid":123}"#)),
        Packet(version: 1, operation: .heartbeat, sequence: 2),
        Packet(version: 7, operation: Operation(1000), sequence: -1, body: ByteBuffer(repeating: 0xAB, count: 4096)),
    ]

    @Test("encode then decode gives the same packets", arguments: samples)
    func roundTrip(packet: Packet) throws {
        var buffer = ByteBuffer()
        buffer.writePacket(packet)
        #expect(buffer.readableBytes == 16 + packet.body.readableBytes)
        #expect(buffer.getInteger(at: 0, as: Int32.self) == Int32(buffer.readableBytes))
        #expect(buffer.getInteger(at: 4, as: Int16.self) == 16)
        let decoded = try PacketDecoder.readPacket(from: &buffer, maxBodySize: 4096)
        #expect(decoded == packet)
        #expect(buffer.readableBytes == 0)
    }

    @Test("the header layout is goim's: big-endian packLen, headerLen, ver, op, seq")
    func headerBytes() {
        var buffer = ByteBuffer()
        buffer.writePacket(Packet(version: 1, operation: .heartbeatReply, sequence: 5, body: ByteBuffer(bytes: [0, 0, 0, 9])))
        #expect(Array(buffer.readableBytesView) == [0, 0, 0, 20, 0, 16, 0, 1, 0, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0, 9])
    }

    @Test("the stream decoder handles byte-at-a-time and coalesced input")
    func decoderVerifier() throws {
        let pairs: [(ByteBuffer, [Packet])] = Self.samples.map { p in
            var b = ByteBuffer()
            b.writePacket(p)
            return (b, [p])
        }
        var coalesced = ByteBuffer()
        for p in Self.samples { coalesced.writePacket(p) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: pairs + [(coalesced, Self.samples)],
            decoderFactory: { PacketDecoder(maxBodySize: 4096) }
        )
    }

    @Test("a header length other than 16 is refused")
    func badHeaderLength() {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(Int32(20), Int16(20), Int16(1), Int32(2), Int32(0), Int32(0))
        #expect(throws: PacketError.badHeaderLength(20)) { try PacketDecoder.readPacket(from: &buffer, maxBodySize: 4096) }
    }

    @Test("a packet length below the header is refused", arguments: [Int32(0), 15, -1, Int32.min])
    func packetTooShort(length: Int32) {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(length, Int16(16), Int16(1), Int32(2), Int32(0))
        #expect(throws: PacketError.packetTooShort(Int(length))) { try PacketDecoder.readPacket(from: &buffer, maxBodySize: 4096) }
    }

    @Test("a body above the limit is refused before it arrives")
    func bodyTooLarge() {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(Int32(16 + 4097), Int16(16), Int16(1), Int32(4), Int32(0))
        #expect(throws: PacketError.bodyTooLarge(length: 4097, limit: 4096)) {
            try PacketDecoder.readPacket(from: &buffer, maxBodySize: 4096)
        }
        var small = ByteBuffer()
        small.writeMultipleIntegers(Int32(16 + 11), Int16(16), Int16(1), Int32(4), Int32(0))
        #expect(throws: PacketError.bodyTooLarge(length: 11, limit: 10)) { try PacketDecoder.readPacket(from: &small, maxBodySize: 10) }
    }

    @Test("a message whose packet length disagrees with the message is refused (goim crashes here)")
    func lengthMismatch() {
        var longer = ByteBuffer()
        longer.writeMultipleIntegers(Int32(100), Int16(16), Int16(1), Int32(4), Int32(0))
        longer.writeString("short")
        #expect(throws: PacketError.lengthMismatch(declared: 100, actual: 21)) { try longer.readWholePacket() }

        var shorter = ByteBuffer()
        shorter.writeMultipleIntegers(Int32(16), Int16(16), Int16(1), Int32(4), Int32(0))
        shorter.writeString("extra")
        #expect(throws: PacketError.lengthMismatch(declared: 16, actual: 21)) { try shorter.readWholePacket() }

        var tiny = ByteBuffer(bytes: [0, 0, 0])
        #expect(throws: PacketError.truncated(length: 3)) { try tiny.readWholePacket() }
    }

    @Test("an incomplete packet waits for more bytes")
    func needsMoreData() throws {
        var full = ByteBuffer()
        full.writePacket(Packet(operation: .sendMessage, body: ByteBuffer(string: "hello")))
        var partial = full.getSlice(at: 0, length: 18)!
        #expect(try PacketDecoder.readPacket(from: &partial, maxBodySize: 4096) == nil)
        #expect(partial.readableBytes == 18)
    }

    @Test("op-9 bodies split into their inner packets and join back")
    func batch() throws {
        let joined = PacketBatch.join(Self.samples)
        #expect(try PacketBatch.split(joined) == Self.samples)
        var broken = joined
        broken.moveWriterIndex(to: joined.writerIndex - 1)
        #expect(throws: PacketError.self) { try PacketBatch.split(broken) }
    }
}
