public import NIOCore

/// Splits a byte stream (TCP) into goim packets.
///
/// Malformed input throws ``PacketError``; `ByteToMessageHandler` then fires the error down the
/// pipeline, where the session handler closes that one connection with the reason.
public struct PacketDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = Packet

    public let maxBodySize: Int

    public init(maxBodySize: Int = Packet.defaultMaxBodySize) {
        self.maxBodySize = maxBodySize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let packet = try Self.readPacket(from: &buffer, maxBodySize: maxBodySize) else { return .needMoreData }
        context.fireChannelRead(NIOAny(packet))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// Reads one packet from the front of a stream buffer, or returns nil when it is not complete yet.
    public static func readPacket(from buffer: inout ByteBuffer, maxBodySize: Int) throws(PacketError) -> Packet? {
        guard let header = buffer.getPacketHeader(at: buffer.readerIndex) else { return nil }
        try header.validate(maxBodySize: maxBodySize)
        let total = Int(header.packetLength)
        guard buffer.readableBytes >= total else { return nil }
        buffer.moveReaderIndex(forwardBy: Packet.headerLength)
        let body = buffer.readSlice(length: total - Packet.headerLength)!
        return Packet(version: header.version, operation: header.operation, sequence: header.sequence, body: body)
    }
}

/// Writes goim packets onto a byte stream. Used by clients; the server frames pushes itself.
public struct PacketEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = Packet

    public init() {}

    public func encode(data: Packet, out: inout ByteBuffer) throws {
        out.writePacket(data)
    }
}
