import CZeroMQ
import HeraldCore

/// The logic side towards one job endpoint: a PUSH socket used only on its own thread. A publish
/// returns once zmq took the message into its queue, or fails when the high-water mark was reached
/// for longer than `send_timeout` (the declared policy: block with a bound, then fail the push with
/// -500 — never a silent drop).
final class ZeroMQSender: Sendable {
    let endpoint: String
    private let socket: ZeroMQSocket
    private let thread = SerialThread(name: "herald-zmq-push")

    init(context: UnsafeMutableRawPointer, endpoint: String, configuration: ZeroMQConfiguration) throws {
        self.endpoint = endpoint
        let socket = try ZeroMQSocket(context: context, type: ZMQ_PUSH)
        try socket.set(ZMQ_SNDHWM, Int32(clamping: configuration.sendHighWaterMark))
        try socket.set(ZMQ_SNDTIMEO, configuration.sendTimeout.zmqMilliseconds)
        try socket.set(ZMQ_LINGER, configuration.linger.zmqMilliseconds)
        try socket.set(ZMQ_RECONNECT_IVL, configuration.reconnectInterval.zmqMilliseconds)
        try socket.set(ZMQ_RECONNECT_IVL_MAX, configuration.reconnectIntervalMax.zmqMilliseconds)
        try socket.connect(endpoint)
        self.socket = socket
    }

    func send(_ bytes: [UInt8]) async throws {
        let socket = self.socket
        let endpoint = self.endpoint
        let sent: Bool
        do {
            sent = try await thread.run { try socket.send(bytes) }
        } catch is CancellationError {
            throw QueueError("zeromq publisher for \(endpoint) is shut down")
        }
        guard sent else {
            throw QueueError("zeromq high-water mark reached towards \(endpoint) for longer than send_timeout: the job is not keeping up or is down")
        }
    }

    /// Lets queued sends finish, then closes the socket (lingering up to `linger`) on its thread.
    func shutdown() async {
        await thread.stop { [socket] in socket.close() }
    }
}
