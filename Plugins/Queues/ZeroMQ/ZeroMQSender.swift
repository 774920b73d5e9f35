import CZeroMQ
import DequeModule
import Foundation
import HeraldCore

/// The logic side towards one job endpoint: a PUSH socket owned by its own thread. Publishers
/// enqueue and are resumed once zmq took the message into its queue, or failed when the
/// high-water mark was reached for longer than `send_timeout` (the declared policy: block with a
/// bound, then fail the push with -500 — never a silent drop).
final class ZeroMQSender: Sendable {
    private struct Pending {
        var bytes: [UInt8]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var pending = Deque<Pending>()
        var stopping = false
    }

    let endpoint: String
    private let condition = NSCondition()
    private nonisolated(unsafe) var state = State()
    private let finished = CompletionSignal()

    init(context: UnsafeMutableRawPointer, endpoint: String, configuration: ZeroMQConfiguration) throws {
        self.endpoint = endpoint
        let socket = try ZeroMQSocket(context: context, type: ZMQ_PUSH)
        try socket.set(ZMQ_SNDHWM, Int32(clamping: configuration.sendHighWaterMark))
        try socket.set(ZMQ_SNDTIMEO, configuration.sendTimeout.zmqMilliseconds)
        try socket.set(ZMQ_LINGER, configuration.linger.zmqMilliseconds)
        try socket.set(ZMQ_RECONNECT_IVL, configuration.reconnectInterval.zmqMilliseconds)
        try socket.set(ZMQ_RECONNECT_IVL_MAX, configuration.reconnectIntervalMax.zmqMilliseconds)
        try socket.connect(endpoint)
        let thread = Thread { [self] in
            run(socket)
            socket.close()
            finished.signal()
        }
        thread.name = "herald-zmq-push"
        thread.start()
    }

    func send(_ bytes: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            condition.lock()
            if state.stopping {
                condition.unlock()
                c.resume(throwing: QueueError("zeromq publisher for \(endpoint) is shut down"))
                return
            }
            state.pending.append(Pending(bytes: bytes, continuation: c))
            condition.signal()
            condition.unlock()
        }
    }

    /// Fails what is still waiting, closes the socket (lingering up to `linger`) and waits for the thread.
    func shutdown() async {
        markStopping()
        await finished.wait()
    }

    private func markStopping() {
        condition.lock()
        state.stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run(_ socket: ZeroMQSocket) {
        while true {
            condition.lock()
            while state.pending.isEmpty && !state.stopping { condition.wait() }
            if state.stopping {
                let rest = state.pending
                state.pending.removeAll()
                condition.unlock()
                for p in rest { p.continuation.resume(throwing: QueueError("zeromq publisher for \(endpoint) is shut down")) }
                return
            }
            let batch = state.pending
            state.pending.removeAll()
            condition.unlock()
            for p in batch {
                do {
                    if try socket.send(p.bytes) {
                        p.continuation.resume()
                    } else {
                        p.continuation.resume(throwing: QueueError("zeromq high-water mark reached towards \(endpoint) for longer than send_timeout: the job is not keeping up or is down"))
                    }
                } catch {
                    p.continuation.resume(throwing: error)
                }
            }
        }
    }
}

/// A one-shot signal from a thread to an async waiter.
final class CompletionSignal: Sendable {
    private let condition = NSCondition()
    private nonisolated(unsafe) var done = false
    private nonisolated(unsafe) var waiters: [CheckedContinuation<Void, Never>] = []

    func signal() {
        condition.lock()
        done = true
        let w = waiters
        waiters = []
        condition.unlock()
        for c in w { c.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            condition.lock()
            if done {
                condition.unlock()
                c.resume()
                return
            }
            waiters.append(c)
            condition.unlock()
        }
    }
}
