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
    private let frontWriter: FrontWriter
    private var closeSent = false

    init(maxBodySize: Int, frontWriter: FrontWriter) {
        self.maxBodySize = maxBodySize
        self.frontWriter = frontWriter
    }

    private func writeRaw(_ bytes: ByteBuffer, context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        (frontWriter.context ?? context).writeAndFlush(NIOAny(bytes))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .text:
            var payload = frame.unmaskedData
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
}

@available(*, unavailable)
extension WebSocketPacketHandler: Sendable {}
