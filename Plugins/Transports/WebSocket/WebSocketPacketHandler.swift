import HeraldCore
import HeraldProtocol
import NIOCore
import NIOWebSocket

/// Turns WebSocket messages into goim packets (one packet per message) and answers control frames.
///
/// A message whose packet length disagrees with the message length, or any other malformed packet,
/// is passed on as a ``PacketError`` so the session handler closes this one connection (goim
/// crashes the process on such a message).
final class WebSocketPacketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = Packet
    typealias OutboundOut = ByteBuffer

    private let maxBodySize: Int
    private let maxFragments: Int
    private let frontWriter: FrontWriter
    private var closeSent = false
    /// A fragmented message being reassembled (rare: goim clients send one frame per packet).
    private var fragments: ByteBuffer?
    private var fragmentCount = 0

    init(maxBodySize: Int, maxFragments: Int, frontWriter: FrontWriter) {
        self.maxBodySize = maxBodySize
        self.maxFragments = maxFragments
        self.frontWriter = frontWriter
    }

    private func writeRaw(_ bytes: ByteBuffer, context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        (frontWriter.context ?? context).writeAndFlush(NIOAny(bytes))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .text, .continuation:
            var payload = frame.unmaskedData
            if frame.opcode == .continuation || !frame.fin {
                guard assemble(frame, into: &payload, context: context) else { return }
            }
            do {
                let packet = try payload.readWholePacket(maxBodySize: maxBodySize)
                context.fireChannelRead(wrapInboundOut(packet))
            } catch {
                context.fireErrorCaught(error)
            }
        case .ping:
            let pong = WebSocketPacketFraming.controlFrame(opcode: 0xA, payload: frame.unmaskedData, allocator: context.channel.allocator)
            _ = writeRaw(pong, context: context)
        case .pong:
            break
        case .connectionClose:
            guard !closeSent else {
                context.close(promise: nil)
                return
            }
            closeSent = true
            var status = frame.unmaskedData
            let code = status.readSlice(length: min(2, status.readableBytes)) ?? ByteBuffer()
            let reply = WebSocketPacketFraming.controlFrame(opcode: 0x8, payload: code, allocator: context.channel.allocator)
            writeRaw(reply, context: context).whenComplete { _ in context.close(promise: nil) }
        default:
            context.fireErrorCaught(PacketError.truncated(length: frame.length))
        }
    }

    /// Adds a fragment; returns true with the whole message in `payload` once the final one arrived.
    private func assemble(_ frame: WebSocketFrame, into payload: inout ByteBuffer, context: ChannelHandlerContext) -> Bool {
        let starting = frame.opcode != .continuation
        guard starting == (fragments == nil) else {
            context.fireErrorCaught(WebSocketFragmentError.unexpectedFrame)
            return false
        }
        if starting {
            fragments = payload
            fragmentCount = 1
        } else {
            fragments!.writeBuffer(&payload)
            fragmentCount += 1
        }
        guard fragmentCount <= maxFragments, fragments!.readableBytes <= maxBodySize + Packet.headerLength else {
            fragments = nil
            context.fireErrorCaught(WebSocketFragmentError.tooLarge)
            return false
        }
        guard frame.fin else { return false }
        payload = fragments!
        fragments = nil
        return true
    }
}

/// A fragmented WebSocket message broke the rules.
enum WebSocketFragmentError: Error, CustomStringConvertible {
    case unexpectedFrame
    case tooLarge

    var description: String {
        switch self {
        case .unexpectedFrame: "continuation frame without a started message, or a new message inside one"
        case .tooLarge: "fragmented message exceeds the fragment or size limit"
        }
    }
}

@available(*, unavailable)
extension WebSocketPacketHandler: Sendable {}
