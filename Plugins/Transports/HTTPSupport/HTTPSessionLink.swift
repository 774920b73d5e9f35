public import HeraldCore
import HeraldPluginSupport
public import HeraldProtocol
public import NIOCore

/// What the HTTP-based links (long-poll, SSE) share as the comet core's `ClientLink`: the session
/// they serve, the replies it produces while one client request is being handled (those answer
/// that request instead of going to the client's stream), and a close that happens once.
///
/// A subclass says how packets reach its client (``deliver(_:)``), when it counts as a slow
/// consumer (``isWritable``) and what closing ends (``closed()``). Confined to `eventLoop`.
open class HTTPSessionLink: ClientLink, @unchecked Sendable {
    /// The session id the client names in its requests.
    public let id: String
    public let eventLoop: any EventLoop
    /// Packets arrive as goim's plain binary packets; the link re-encodes them for HTTP.
    public let framing: any PacketFraming = StreamPacketFraming.shared
    public let transportName: String
    public let remoteAddress: SocketAddress?
    /// The comet session this link serves (nil once closed).
    public var session: (any ClientSession)?
    public private(set) var closeReason: CloseReason?
    private let onClose: @Sendable (String) -> Void
    /// The replies of the request being handled (nil: none is).
    private var captured: [Packet]?

    /// `onClose` is called once, with the id, when the link closes.
    public init(
        id: String, eventLoop: any EventLoop, transportName: String, remoteAddress: SocketAddress?,
        onClose: @escaping @Sendable (String) -> Void
    ) {
        self.id = id
        self.eventLoop = eventLoop
        self.transportName = transportName
        self.remoteAddress = remoteAddress
        self.onClose = onClose
    }

    public var isClosed: Bool { closeReason != nil }

    /// False while the client is too far behind (the core's slow-consumer policy applies).
    open var isWritable: Bool { true }

    /// Hands a push's packets to the client (they are not replies to a request).
    open func deliver(_ packets: [Packet]) {}

    /// Ends what the subclass keeps open for the client (a waiting poll, a stream); called once, on close.
    open func closed() {}

    public final func send(_ bytes: ByteBuffer) {
        guard !isClosed, let packets = try? PacketBatch.split(bytes) else { return }
        if captured != nil {
            captured!.append(contentsOf: packets)
            return
        }
        deliver(packets)
    }

    public final func close(_ reason: CloseReason) {
        guard !isClosed else { return }
        closeReason = reason
        closed()
        onClose(id)
        // The session hears of the close once.
        if let session {
            self.session = nil
            session.linkClosed(reason)
        }
    }

    /// Hands the session a client packet and returns the replies it produced synchronously.
    public final func submit(_ packet: Packet) -> [Packet] {
        captured = []
        session?.receive(packet)
        defer { captured = nil }
        return captured ?? []
    }
}
