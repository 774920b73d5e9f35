public import NIOCore

/// Helpers for op-9 (raw) bodies: complete packets back to back.
public enum PacketBatch {
    /// Splits an op-9 body into its inner packets. Throws on a malformed inner packet.
    public static func split(_ body: ByteBuffer, maxBodySize: Int = Int(Int32.max)) throws(PacketError) -> [Packet] {
        var buffer = body
        var packets: [Packet] = []
        while buffer.readableBytes > 0 {
            guard let packet = try PacketDecoder.readPacket(from: &buffer, maxBodySize: maxBodySize) else {
                throw .truncated(length: buffer.readableBytes)
            }
            packets.append(packet)
        }
        return packets
    }

    /// Encodes `packets` back to back into one buffer (an op-9 body).
    public static func join(_ packets: [Packet], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var out = allocator.buffer(capacity: packets.reduce(0) { $0 + $1.packetLength })
        for p in packets { out.writePacket(p) }
        return out
    }
}
