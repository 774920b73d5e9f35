import HeraldCore
import HeraldPluginSupport
import HeraldHTTPSupport
import HeraldProtocol
import NIOCore

/// One Server-Sent Events stream as the comet core's link. Written only against Herald's public
/// transport API (`ClientLink`, `ClientSession`, `SessionAcceptor`): no change to the core.
///
/// Confined to `eventLoop`. Pushes become `data:` events carrying `{"op":..,"body":..}`; the bytes
/// not yet written to the socket are counted, so a stalled reader makes the link unwritable and the
/// core's slow-consumer policy applies.
final class SSELink: ClientLink, @unchecked Sendable {
    let id: String
    let eventLoop: any EventLoop
    let framing: any PacketFraming = StreamPacketFraming.shared
    let transportName: String
    let remoteAddress: SocketAddress?
    private let maxPendingBytes: Int
    private let emit: @Sendable (ByteBuffer) -> Void
    private let finish: @Sendable () -> Void
    private let onClose: @Sendable (String) -> Void

    private let handle = SessionHandle()
    var session: (any ClientSession)? {
        get { handle.session }
        set { handle.session = newValue }
    }
    private var pendingBytes = 0
    private var nextID: UInt64 = 1
    private(set) var closeReason: CloseReason?

    init(id: String, eventLoop: any EventLoop, transportName: String, remoteAddress: SocketAddress?, maxPendingBytes: Int,
         emit: @escaping @Sendable (ByteBuffer) -> Void, finish: @escaping @Sendable () -> Void,
         onClose: @escaping @Sendable (String) -> Void) {
        self.id = id
        self.eventLoop = eventLoop
        self.transportName = transportName
        self.remoteAddress = remoteAddress
        self.maxPendingBytes = maxPendingBytes
        self.emit = emit
        self.finish = finish
        self.onClose = onClose
    }

    var isWritable: Bool { pendingBytes < maxPendingBytes }

    func send(_ bytes: ByteBuffer) {
        guard closeReason == nil, let packets = try? PacketBatch.split(bytes) else { return }
        if handle.capture(packets) { return }
        for packet in packets {
            var event = ByteBuffer(string: "id: \(nextID)\nevent: message\ndata: ")
            event.writeString(PacketJSON.text(packet))
            event.writeString("\n\n")
            nextID += 1
            pendingBytes += event.readableBytes
            emit(event)
        }
    }

    /// Writes a raw event (the session id, keep-alive comments).
    func sendRaw(_ text: String) {
        guard closeReason == nil else { return }
        let event = ByteBuffer(string: text)
        pendingBytes += event.readableBytes
        emit(event)
    }

    /// The response writer reports bytes it has written to the socket.
    func written(_ count: Int) { pendingBytes -= count }

    func close(_ reason: CloseReason) {
        guard closeReason == nil else { return }
        closeReason = reason
        finish()
        onClose(id)
        handle.linkClosed(reason)
    }

    /// Hands the session a client packet and returns the replies it produced synchronously.
    func submit(_ packet: Packet) -> [Packet] { handle.submit(packet) }
}
