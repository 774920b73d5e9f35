import HTTPTypes
import HeraldCore
import NIOCore
import NIOHTTPTypes

/// In an HTTP-based transport's pipeline (after HTTP decoding): each request on the socket must be
/// complete within the request timeout, and holds an admission slot until it is
/// (``PendingRequestGuard``). A long poll held open or an SSE stream is past its request and costs
/// no slot; its session counts instead.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

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

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { guardian.requestComplete(context) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd { guardian.responseComplete(context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        guardian.finish()
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension RequestDeadlineHandler: Sendable {}
