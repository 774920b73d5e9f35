import DequeModule
import HeraldCore
import HeraldHTTPSupport
import HeraldPluginSupport
import HeraldProtocol
import NIOCore

/// One long-poll session: the comet core's link for a client that talks in HTTP requests.
///
/// Confined to `eventLoop`. Pushes are kept in a bounded queue, numbered; a poll returns every
/// message after the client's acknowledged number, so a poll that was lost in transit is answered
/// again by the next one: nothing is lost between polls and nothing is repeated once acknowledged.
final class LongPollLink: HTTPSessionLink, @unchecked Sendable {
    struct Message {
        var seq: UInt64
        var packet: Packet
    }

    private let maxQueuedBytes: Int
    private var queue = Deque<Message>()
    private var queuedBytes = 0
    private var nextSeq: UInt64 = 1
    private var waiter: EventLoopPromise<Void>?

    init(
        id: String, eventLoop: any EventLoop, transportName: String, remoteAddress: SocketAddress?, maxQueuedBytes: Int,
        onClose: @escaping @Sendable (String) -> Void
    ) {
        self.maxQueuedBytes = maxQueuedBytes
        super.init(id: id, eventLoop: eventLoop, transportName: transportName, remoteAddress: remoteAddress, onClose: onClose)
    }

    override var isWritable: Bool { queuedBytes < maxQueuedBytes }

    override func deliver(_ packets: [Packet]) {
        for packet in packets {
            queue.append(Message(seq: nextSeq, packet: packet))
            nextSeq += 1
            queuedBytes += packet.packetLength
        }
        wake()
    }

    /// A waiting poll returns what is queued (the session's last messages, then nothing more).
    override func closed() { wake() }

    // MARK: Requests (on eventLoop)

    /// Drops acknowledged messages; returns what is queued after `ack`, or nil when the caller should wait.
    func take(after ack: UInt64) -> [Message]? {
        while let first = queue.first, first.seq <= ack {
            queue.removeFirst()
            queuedBytes -= first.packet.packetLength
        }
        if !queue.isEmpty || isClosed { return Array(queue) }
        return nil
    }

    /// A future completed when a message arrives or the session closes (one poll waits at a time).
    func waitForMessages() -> EventLoopFuture<Void> {
        waiter?.succeed()
        let promise = eventLoop.makePromise(of: Void.self)
        waiter = promise
        return promise.futureResult
    }

    func peekMessages() -> Deque<Message> { queue }

    func dropMessage(at index: Int) {
        let removed = queue.remove(at: index)
        queuedBytes -= removed.packet.packetLength
    }

    /// Ends a waiting poll empty-handed (its timeout passed).
    func wakeForTimeout() { wake() }

    private func wake() {
        if let w = waiter {
            waiter = nil
            w.succeed()
        }
    }
}
