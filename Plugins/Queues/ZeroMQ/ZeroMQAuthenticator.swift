import CZeroMQ
import Foundation
import HeraldCore
import Logging
import Metrics
import NIOConcurrencyHelpers

/// The ZAP handler of a CURVE bind: libzmq asks it, for every connecting peer, whether its public
/// key may in; only `clients` may. Refusals are counted in `herald_queue_refused_peers_total` and
/// logged (at most once per 10 s). Runs on its own thread for as long as the queue's zmq context.
final class ZeroMQAuthenticator: @unchecked Sendable {
    private let socket: ZeroMQSocket
    private let clients: Set<String>
    private let stopped = NIOLockedValueBox(false)
    private let done = NIOLockedValueBox(false)
    private let thread: Thread
    private static let refused = Counter(label: "herald_queue_refused_peers_total", dimensions: [("queue", "zeromq")])

    /// Binds the context's ZAP endpoint; must run before the CURVE socket binds.
    init(context: UnsafeMutableRawPointer, clients: Set<String>, logger: Logger) throws(QueueError) {
        let socket = try ZeroMQSocket(context: context, type: ZMQ_REP)
        try socket.set(ZMQ_RCVTIMEO, 100)
        try socket.set(ZMQ_LINGER, 0)
        try socket.bind("inproc://zeromq.zap.01")
        self.socket = socket
        self.clients = clients
        let stopped = self.stopped, done = self.done
        let log = RateLimitedLog(interval: .seconds(10))
        thread = Thread {
            while !stopped.withLockedValue({ $0 }) {
                guard let request = socket.receiveParts() else { continue }
                // ZAP 1.0: version, request id, domain, address, identity, mechanism, credentials.
                // A REP socket must answer every request, a malformed one too (with a refusal).
                let mechanism = request.count > 5 ? String(decoding: request[5], as: UTF8.self) : ""
                let key = request.count > 6 ? ZeroMQCurve.z85(request[6]) : nil
                let allowed = mechanism == "CURVE" && key.map(clients.contains) == true
                if !allowed {
                    Self.refused.increment()
                    log.log(
                        logger, "zeromq peer refused: its CURVE key is not in curve_clients",
                        metadata: [
                            "zeromq.peer": "\(request.count > 3 ? String(decoding: request[3], as: UTF8.self) : "?")",
                            "zeromq.key": "\(key ?? mechanism)",
                        ])
                }
                socket.sendParts([
                    Array("1.0".utf8), request.count > 1 ? request[1] : [], Array((allowed ? "200" : "400").utf8),
                    Array((allowed ? "OK" : "key not admitted").utf8), allowed ? Array((key ?? "").utf8) : [], [],
                ])
            }
            socket.close()
            done.withLockedValue { $0 = true }
        }
        thread.name = "herald-zmq-zap"
        thread.start()
    }

    /// Stops the thread and closes the socket (before the context is terminated). Blocks up to
    /// the socket's 100 ms receive timeout: call it off the cooperative pool.
    func stop() {
        stopped.withLockedValue { $0 = true }
        while !done.withLockedValue({ $0 }) { usleep(10_000) }
    }
}
