import CZeroMQ
import HeraldCore
import HeraldPluginSupport
import HeraldProtocol

/// The logic side towards one job endpoint: a PUSH socket used only on its own thread. A publish
/// returns once zmq took the message into its queue, or fails when the high-water mark was reached
/// for longer than `send_timeout` (the declared policy: block with a bound, then fail the push with
/// -500 — never a silent drop).
final class ZeroMQSender: Sendable {
    let endpoint: String
    /// This socket's stream id (`herald_stream`): the job counts gaps in its numbers as losses.
    let stream = String(UInt64.random(in: 1...UInt64.max), radix: 36)
    private let socket: ZeroMQSocket
    private let thread = SerialThread(name: "herald-zmq-push")
    /// Messages sent on this socket (touched only on its thread).
    private let sentCount = SentCount()

    init(context: UnsafeMutableRawPointer, endpoint: String, configuration: ZeroMQConfiguration) throws {
        self.endpoint = endpoint
        let socket = try ZeroMQSocket(context: context, type: ZMQ_PUSH)
        try socket.set(ZMQ_SNDHWM, Int32(clamping: configuration.sendHighWaterMark))
        try socket.set(ZMQ_SNDTIMEO, configuration.sendTimeout.zmqMilliseconds)
        try socket.set(ZMQ_LINGER, configuration.linger.zmqMilliseconds)
        try socket.set(ZMQ_RECONNECT_IVL, configuration.reconnectInterval.zmqMilliseconds)
        try socket.set(ZMQ_RECONNECT_IVL_MAX, configuration.reconnectIntervalMax.zmqMilliseconds)
        try configuration.curve?.applyClient(to: socket)
        try socket.connect(endpoint)
        self.socket = socket
    }

    /// Numbers `message` on this socket's stream and sends it. The number is taken only when zmq
    /// took the message, so the job sees consecutive numbers and a gap is a real loss.
    func send(_ message: PushMsg) async throws {
        let socket = self.socket, endpoint = self.endpoint, stream = self.stream, count = sentCount
        let sent: Bool
        do {
            sent = try await thread.run {
                var numbered = message
                numbered.heraldStream = stream
                numbered.heraldStreamSeq = count.value + 1
                guard try socket.send(try numbered.serializedBytes()) else { return false }
                count.value += 1
                return true
            }
        } catch is CancellationError {
            throw QueueError("zeromq publisher for \(endpoint) is shut down")
        }
        guard sent else {
            throw QueueError(
                "zeromq high-water mark reached towards \(endpoint) for longer than send_timeout: the job is not keeping up or is down")
        }
    }

    /// Lets queued sends finish, then closes the socket (lingering up to `linger`) on its thread.
    func shutdown() async {
        await thread.stop { [socket] in socket.close() }
    }
}

/// A counter confined to one sender's thread.
private final class SentCount: @unchecked Sendable {
    var value: UInt64 = 0
}
