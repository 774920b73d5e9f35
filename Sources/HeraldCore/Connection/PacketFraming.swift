public import HeraldProtocol
public import NIOCore

/// How a transport puts packets on its wire.
///
/// The comet core frames every push once per framing and shares the resulting bytes with every
/// connection that uses the same framing, so a room message to 10,000 WebSocket clients is
/// encoded once. Implementations are stateless reference types; identity is the cache key.
public protocol PacketFraming: AnyObject, Sendable {
    /// Bytes for one packet (a reply to a client operation).
    func frame(_ packet: Packet, allocator: ByteBufferAllocator) -> ByteBuffer

    /// Bytes for a push: `batch` holds one or more complete packets back to back (goim's op-9 body).
    func frame(batch: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer
}
