import HeraldCore
import HeraldProtocol
import NIOCore

/// A push ready for delivery: complete inner packets back to back (goim's op-9 body), framed once
/// per transport framing and shared by every connection that uses that framing.
struct PushPayload: Sendable {
    let batch: ByteBuffer

    init(_ unit: PushUnit) {
        batch = unit.packets
    }
}

/// Framed bytes of one push, per framing, for one event loop's delivery pass.
struct FramedPushCache {
    private let payload: PushPayload
    private let allocator: ByteBufferAllocator
    private var entries: [(ObjectIdentifier, ByteBuffer)] = []

    init(_ payload: PushPayload, allocator: ByteBufferAllocator) {
        self.payload = payload
        self.allocator = allocator
    }

    mutating func bytes(for framing: any PacketFraming) -> ByteBuffer {
        let id = ObjectIdentifier(framing)
        for (key, bytes) in entries where key == id { return bytes }
        let bytes = framing.frame(batch: payload.batch, allocator: allocator)
        entries.append((id, bytes))
        return bytes
    }
}
