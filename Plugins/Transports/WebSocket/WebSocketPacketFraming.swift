public import HeraldCore
public import HeraldProtocol
public import NIOCore

/// goim's WebSocket framing: one packet per binary message; a push arrives as one message holding
/// an op-9 envelope around its inner packets. Server frames are unmasked, so the framed bytes of
/// a push are identical for every connection and are shared.
public final class WebSocketPacketFraming: PacketFraming {
    public static let shared = WebSocketPacketFraming()

    public init() {}

    public func frame(_ packet: Packet, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: packet.packetLength + 10)
        Self.writeFrameHeader(opcode: 0x2, payloadLength: packet.packetLength, into: &out)
        out.writePacket(packet)
        return out
    }

    public func frame(batch: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let payload = Packet.headerLength + batch.readableBytes
        var out = allocator.buffer(capacity: payload + 10)
        Self.writeFrameHeader(opcode: 0x2, payloadLength: payload, into: &out)
        out.writePacketHeader(bodyLength: batch.readableBytes, version: 1, operation: .raw, sequence: 0)
        out.writeImmutableBuffer(batch)
        return out
    }

    /// A complete unmasked control or data frame.
    static func controlFrame(opcode: UInt8, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: payload.readableBytes + 10)
        writeFrameHeader(opcode: opcode, payloadLength: payload.readableBytes, into: &out)
        out.writeImmutableBuffer(payload)
        return out
    }

    /// RFC 6455 §5.2 header of a final, unmasked frame.
    static func writeFrameHeader(opcode: UInt8, payloadLength: Int, into out: inout ByteBuffer) {
        out.writeInteger(0x80 | opcode)
        switch payloadLength {
        case ..<126:
            out.writeInteger(UInt8(payloadLength))
        case ..<65536:
            out.writeInteger(UInt8(126))
            out.writeInteger(UInt16(payloadLength))
        default:
            out.writeInteger(UInt8(127))
            out.writeInteger(UInt64(payloadLength))
        }
    }
}
