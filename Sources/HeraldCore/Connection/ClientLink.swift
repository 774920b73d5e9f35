public import HeraldProtocol
public import NIOCore

/// The transport side of one client connection, as the comet core sees it.
///
/// A transport implements this for each connection (`SessionChannelHandler` of HeraldPluginSupport does it for any
/// NIO channel). Every method is called on ``eventLoop`` only.
public protocol ClientLink: AnyObject {
    /// The event loop this connection lives on; the core runs all of its work for the connection there.
    var eventLoop: any EventLoop { get }
    /// How pushes and replies are framed on this connection's wire.
    var framing: any PacketFraming { get }
    /// The name of the transport plugin (for metrics and logs).
    var transportName: String { get }
    /// The client's address, when the transport knows it.
    var remoteAddress: SocketAddress? { get }
    /// False while the connection's outbound buffer is above its high-water mark.
    var isWritable: Bool { get }
    /// Sends framed bytes and flushes them.
    func send(_ bytes: ByteBuffer)
    /// Closes the connection. The session's ``ClientSession/linkClosed()`` follows.
    func close(_ reason: CloseReason)
}

/// The comet core's side of one client connection. Created by a ``SessionAcceptor``.
/// Every method is called on the link's event loop.
public protocol ClientSession: AnyObject {
    /// A packet the client sent.
    func receive(_ packet: Packet)
    /// The connection is gone; called exactly once, with the reason it was closed for
    /// (``CloseReason/clientClosed`` when the peer went away).
    func linkClosed(_ reason: CloseReason)
}

/// What a transport hands its connections to: the comet core.
public protocol SessionAcceptor: Sendable {
    /// Opens a session for a new connection. Called on `link.eventLoop`.
    func open(link: any ClientLink) -> any ClientSession
    /// Records that a connection was closed for `reason` before or without a session
    /// (for example a failed WebSocket upgrade). Counted and logged.
    func recordRejected(transport: String, reason: CloseReason)
    /// Limits that transports apply while parsing.
    var limits: ConnectionLimits { get }
    /// Takes an admission slot for a socket that is not a session yet (an HTTP request still being
    /// read), or says which limit refuses it. See ``PendingRequestGuard``.
    func admitSocket(ip: String?) -> CloseReason?
    /// Gives back a slot ``admitSocket(ip:)`` took.
    func releaseSocket(ip: String?)
}

extension SessionAcceptor {
    /// Acceptors without admission limits admit every socket.
    public func admitSocket(ip: String?) -> CloseReason? { nil }
    public func releaseSocket(ip: String?) {}
}

/// Per-connection limits shared by every transport.
public struct ConnectionLimits: Sendable, Hashable {
    /// Maximum packet body size in bytes (goim's default 4096).
    public var maxBodySize: Int
    /// Outbound bytes buffered for one connection before it counts as a slow consumer.
    public var outboundHighWater: Int
    /// Outbound bytes below which a slow connection is writable again.
    public var outboundLowWater: Int
    /// Time an HTTP-based transport's socket has to send a complete request, from accept or from
    /// its last response (``PendingRequestGuard``; `[comet] request_timeout`).
    public var requestTimeout: Duration

    public init(
        maxBodySize: Int = Packet.defaultMaxBodySize,
        outboundHighWater: Int = 256 * 1024,
        outboundLowWater: Int = 64 * 1024,
        requestTimeout: Duration = .seconds(10)
    ) {
        self.maxBodySize = maxBodySize
        self.outboundHighWater = outboundHighWater
        self.outboundLowWater = outboundLowWater
        self.requestTimeout = requestTimeout
    }
}
