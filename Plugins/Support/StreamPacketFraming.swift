public import HeraldCore
public import HeraldProtocol
public import NIOCore

/// Plain goim packets on a byte stream (TCP): a batch is written as its inner packets.
public final class StreamPacketFraming: PacketFraming {
    public static let shared = StreamPacketFraming()

    public init() {}

    public func frame(_ packet: Packet, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: packet.packetLength)
        out.writePacket(packet)
        return out
    }

    public func frame(batch: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer { batch }
}
