import HeraldCore
import HeraldHTTPSupport
import HeraldPluginSupport
import HeraldProtocol
import NIOCore

/// One Server-Sent Events stream as the comet core's link. Written only against Herald's public
/// transport API (`ClientLink`, `ClientSession`, `SessionAcceptor`): no change to the core.
///
/// Confined to `eventLoop`. Pushes become `data:` events carrying `{"op":..,"body":..}`; the bytes
/// not yet written to the socket are counted, so a stalled reader makes the link unwritable and the
/// core's slow-consumer policy applies.
final class SSELink: HTTPSessionLink, @unchecked Sendable {
    private let maxPendingBytes: Int
    private let emit: @Sendable (ByteBuffer) -> Void
    private let finish: @Sendable () -> Void
    private var pendingBytes = 0
    private var nextID: UInt64 = 1

    init(
        id: String, eventLoop: any EventLoop, transportName: String, remoteAddress: SocketAddress?, maxPendingBytes: Int,
        emit: @escaping @Sendable (ByteBuffer) -> Void, finish: @escaping @Sendable () -> Void,
        onClose: @escaping @Sendable (String) -> Void
    ) {
        self.maxPendingBytes = maxPendingBytes
        self.emit = emit
        self.finish = finish
        super.init(id: id, eventLoop: eventLoop, transportName: transportName, remoteAddress: remoteAddress, onClose: onClose)
    }

    override var isWritable: Bool { pendingBytes < maxPendingBytes }

    override func deliver(_ packets: [Packet]) {
        for packet in packets {
            var event = ByteBuffer(string: "id: \(nextID)\nevent: message\ndata: ")
            event.writeString(PacketJSON.text(packet))
            event.writeString("\n\n")
            nextID += 1
            pendingBytes += event.readableBytes
            emit(event)
        }
    }

    /// The stream ends.
    override func closed() { finish() }

    /// Writes a raw event (the session id, keep-alive comments).
    func sendRaw(_ text: String) {
        guard closeReason == nil else { return }
        let event = ByteBuffer(string: text)
        pendingBytes += event.readableBytes
        emit(event)
    }

    /// The response writer reports bytes it has written to the socket.
    func written(_ count: Int) { pendingBytes -= count }
}
