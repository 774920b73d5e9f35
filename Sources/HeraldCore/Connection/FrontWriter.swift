public import NIOCore

/// An outbound pass-through placed first in a pipeline, whose context writes straight to the socket.
///
/// Transports whose pipelines keep an encoder for another message type (NIO's WebSocket upgrader
/// installs a `WebSocketFrameEncoder` that cannot be removed) give one to ``SessionChannelHandler``:
/// framed bytes then bypass every handler in between.
public final class FrontWriter: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public private(set) var context: ChannelHandlerContext?

    public init() {}

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    public func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }
}

@available(*, unavailable)
extension FrontWriter: Sendable {}
