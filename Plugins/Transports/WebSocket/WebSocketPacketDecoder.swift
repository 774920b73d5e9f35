import HeraldCore
import HeraldProtocol
import NIOCore

/// Client WebSocket frames (RFC 6455 §5) to goim packets, one packet per message, straight from
/// the socket's bytes; answers ping and close itself.
///
/// Client frames must be masked and may not set reserved bits; control frames are final and at
/// most 125 bytes; a message may be fragmented into at most `maxFragments` frames and may not
/// exceed one packet of `maxBodySize`. Anything else is thrown, and the session handler closes this
/// one connection with a counted reason (goim crashes the process on a malformed message).
struct WebSocketPacketDecoder: ByteToMessageDecoder {
    typealias InboundOut = Packet

    private let maxBodySize: Int
    private let maxFragments: Int
    /// A fragmented message being reassembled (rare: goim clients send one frame per packet).
    private var fragments: ByteBuffer?
    private var fragmentCount = 0
    private var closeSent = false

    init(maxBodySize: Int, maxFragments: Int) {
        self.maxBodySize = maxBodySize
        self.maxFragments = maxFragments
    }

    private var maxMessage: Int { maxBodySize + Packet.headerLength }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let (opcode, fin, payload) = try readFrame(&buffer, allocator: context.channel.allocator) else { return .needMoreData }
        try handle(opcode: opcode, fin: fin, payload: payload, context: context)
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // Whole frames still buffered are handled; a partial one at the end is dropped.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    /// One whole frame, unmasked, or nil until all of it has arrived.
    private func readFrame(_ buffer: inout ByteBuffer, allocator: ByteBufferAllocator) throws -> (UInt8, Bool, ByteBuffer)? {
        let start = buffer.readerIndex
        guard let b0 = buffer.getInteger(at: start, as: UInt8.self), let b1 = buffer.getInteger(at: start + 1, as: UInt8.self) else {
            return nil
        }
        guard b0 & 0x70 == 0 else { throw WebSocketFrameError.reservedBits }
        guard b1 & 0x80 != 0 else { throw WebSocketFrameError.unmasked }
        let opcode = b0 & 0x0F
        let fin = b0 & 0x80 != 0
        var length = Int(b1 & 0x7F)
        var header = 2
        if length == 126 {
            guard let l = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(l)
            header = 4
        } else if length == 127 {
            guard let l = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            guard l <= UInt64(maxMessage) else { throw WebSocketFrameError.tooLarge(limit: maxMessage) }
            length = Int(l)
            header = 10
        }
        if opcode & 0x8 != 0, !fin || length > 125 { throw WebSocketFrameError.badControlFrame }
        guard length <= maxMessage else { throw WebSocketFrameError.tooLarge(limit: maxMessage) }
        guard buffer.readableBytes >= header + 4 + length else { return nil }
        let mask = buffer.getBytes(at: start + header, length: 4)!
        var payload = allocator.buffer(capacity: length)
        buffer.withUnsafeReadableBytes { raw in
            let body = raw[(header + 4)..<(header + 4 + length)]
            payload.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
                var i = 0
                for byte in body {
                    out[i] = byte ^ mask[i & 3]
                    i += 1
                }
                return length
            }
        }
        buffer.moveReaderIndex(forwardBy: header + 4 + length)
        return (opcode, fin, payload)
    }

    private mutating func handle(opcode: UInt8, fin: Bool, payload: ByteBuffer, context: ChannelHandlerContext) throws {
        switch opcode {
        case 0x1, 0x2:  // text, binary
            guard fragments == nil else { throw WebSocketFrameError.unexpectedFrame }
            if fin {
                try deliver(payload, context: context)
            } else {
                fragments = payload
                fragmentCount = 1
            }
        case 0x0:  // continuation
            guard var message = fragments else { throw WebSocketFrameError.unexpectedFrame }
            fragments = nil
            var more = payload
            message.writeBuffer(&more)
            fragmentCount += 1
            guard fragmentCount <= maxFragments, message.readableBytes <= maxMessage else {
                throw WebSocketFrameError.fragmentLimit(frames: maxFragments, bytes: maxMessage)
            }
            if fin { try deliver(message, context: context) } else { fragments = message }
        case 0x8:  // close: answer with the peer's status code, then close
            guard !closeSent else {
                context.close(promise: nil)
                return
            }
            closeSent = true
            let code = payload.getSlice(at: payload.readerIndex, length: min(2, payload.readableBytes)) ?? ByteBuffer()
            let reply = WebSocketPacketFraming.controlFrame(opcode: 0x8, payload: code, allocator: context.channel.allocator)
            context.writeAndFlush(NIOAny(reply)).whenComplete { _ in context.close(promise: nil) }
        case 0x9:  // ping
            context.writeAndFlush(
                NIOAny(WebSocketPacketFraming.controlFrame(opcode: 0xA, payload: payload, allocator: context.channel.allocator)),
                promise: nil)
        case 0xA:  // pong
            break
        default:
            throw WebSocketFrameError.unknownOpcode(opcode)
        }
    }

    private func deliver(_ message: ByteBuffer, context: ChannelHandlerContext) throws {
        var bytes = message
        let packet = try bytes.readWholePacket(maxBodySize: maxBodySize)
        context.fireChannelRead(wrapInboundOut(packet))
    }
}

/// A client WebSocket frame broke RFC 6455 or a configured limit.
enum WebSocketFrameError: Error, CustomStringConvertible {
    case reservedBits
    case unmasked
    case badControlFrame
    case tooLarge(limit: Int)
    case unexpectedFrame
    case fragmentLimit(frames: Int, bytes: Int)
    case unknownOpcode(UInt8)

    var description: String {
        switch self {
        case .reservedBits: "websocket frame with reserved bits set (no extension was negotiated)"
        case .unmasked: "unmasked websocket frame from a client"
        case .badControlFrame: "websocket control frame fragmented or longer than 125 bytes"
        case .tooLarge(let limit): "websocket frame longer than \(limit) bytes"
        case .unexpectedFrame: "continuation frame without a started message, or a new message inside one"
        case .fragmentLimit(let frames, let bytes): "fragmented message exceeds \(frames) frames or \(bytes) bytes"
        case .unknownOpcode(let op): "unknown websocket opcode \(op)"
        }
    }
}
