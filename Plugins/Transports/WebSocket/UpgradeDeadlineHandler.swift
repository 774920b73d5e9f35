import HeraldCore
import NIOCore

/// First in a WebSocket socket's pipeline: until the upgrade request has arrived, the socket holds
/// an admission slot and must finish it within the request timeout (``PendingRequestGuard``);
/// after the upgrade the session counts instead. Bytes pass through untouched.
final class UpgradeDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let guardian: PendingRequestGuard

    init(acceptor: any SessionAcceptor, transport: String) {
        guardian = PendingRequestGuard(acceptor: acceptor, transport: transport)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { guardian.opened(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        guardian.opened(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        guardian.finish()
        context.fireChannelInactive()
    }

    /// The upgrade request arrived: the WebSocket session takes over.
    func upgraded() { guardian.finish() }
}

@available(*, unavailable)
extension UpgradeDeadlineHandler: Sendable {}
