public import HeraldCore
public import HeraldProtocol
public import NIOCore

/// The last handler of a packet-based NIO pipeline: it feeds decoded ``Packet``s to the comet core
/// and is the connection's ``ClientLink``.
///
/// Transports built on NIO channels put their decoding handler in front of it (TCP: a
/// `PacketDecoder`; WebSocket: a frame decoder that yields packets). Outbound it writes
/// `ByteBuffer`s that are already framed, so the handlers in front must let `ByteBuffer` writes pass.
/// A ``PacketError`` (or any error) reaching this handler closes the connection with a counted reason.
///
/// While the channel is not writable (its outbound buffer is above the high-water mark) the
/// connection is not read: a client that sends requests but never reads the replies (heartbeats,
/// op 12/14, pings) stops being served instead of growing the server's memory. Its outbound
/// buffer then holds at most the high-water mark plus the replies to one read.
public final class SessionChannelHandler: ChannelInboundHandler, RemovableChannelHandler, ClientLink {
    public typealias InboundIn = Packet
    public typealias OutboundOut = ByteBuffer

    private let acceptor: any SessionAcceptor
    public let framing: any PacketFraming
    public let transportName: String
    private var context: ChannelHandlerContext?
    private var session: (any ClientSession)?
    private var closing = false

    public init(acceptor: any SessionAcceptor, framing: any PacketFraming, transportName: String) {
        self.acceptor = acceptor
        self.framing = framing
        self.transportName = transportName
    }

    // MARK: ClientLink

    public var eventLoop: any EventLoop { context!.eventLoop }
    public var remoteAddress: SocketAddress? { context?.channel.remoteAddress }
    public var isWritable: Bool { context?.channel.isWritable ?? false }

    public func send(_ bytes: ByteBuffer) {
        guard let context, !closing else { return }
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    public func close(_ reason: CloseReason) {
        guard let context, !closing else { return }
        closing = true
        closeReason = reason
        context.close(promise: nil)
    }

    /// The reason given to ``close(_:)``, or nil when the peer closed.
    public private(set) var closeReason: CloseReason?

    // MARK: ChannelInboundHandler

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { openSession() }
    }

    public func channelActive(context: ChannelHandlerContext) {
        openSession()
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        session?.receive(unwrapInboundIn(data))
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Reading resumes once the client read enough for the buffer to fall below the low mark.
        let writable = context.channel.isWritable
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: writable)
        if writable { context.read() }
        context.fireChannelWritabilityChanged()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        closing = true
        if let session {
            self.session = nil
            session.linkClosed(closeReason ?? .clientClosed)
        }
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason: CloseReason
        if let packetError = error as? PacketError {
            reason = .malformed(packetError.reason, packetError.description)
        } else if let decodeError = error as? ByteToMessageDecoderError {
            reason = .protocolError(String(describing: decodeError))
        } else if error is ChannelError || error is IOError {
            reason = .ioError(String(describing: error))
        } else {
            reason = .protocolError(String(describing: error))
        }
        if session == nil { acceptor.recordRejected(transport: transportName, reason: reason) }
        close(reason)
    }

    private func openSession() {
        guard session == nil, !closing, context != nil else { return }
        session = acceptor.open(link: self)
    }
}

@available(*, unavailable)
extension SessionChannelHandler: Sendable {}
