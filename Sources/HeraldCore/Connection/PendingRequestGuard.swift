public import NIOCore

/// Bounds a socket of an HTTP-based transport (a WebSocket upgrade, long-poll, SSE) while it has
/// not sent a complete request — the time a slow-loris client holds a socket for free.
///
/// From accept until its first request is complete the socket holds an admission slot
/// (`max_connections`, `max_connections_per_ip`); from accept, and again after each response for
/// the next request on a kept-alive socket, it has `limits.requestTimeout` to finish a request, or
/// it is closed, counted as `request_timeout`. A session the request opens is counted on its own.
/// Used on the socket's event loop only.
public final class PendingRequestGuard {
    private let acceptor: any SessionAcceptor
    private let transport: String
    private let timeout: TimeAmount
    /// The IP the current slot was taken for (`.some(nil)` when the peer has no IP).
    private var slot: String??
    private var timer: Scheduled<Void>?
    private var finished = false

    public static let requestTimeout = CloseReason("request_timeout")

    public init(acceptor: any SessionAcceptor, transport: String) {
        self.acceptor = acceptor
        self.transport = transport
        self.timeout = .nanoseconds(acceptor.limits.requestTimeout.nanoseconds)
    }

    /// A request is awaited: at accept (`admit`: take a slot first) or after a response. Starts the clock.
    public func awaitRequest(_ context: ChannelHandlerContext, admit: Bool) {
        guard !finished, slot == nil, timer == nil else { return }
        if admit {
            let ip = context.channel.remoteAddress?.ipAddress
            if let refused = acceptor.admitSocket(ip: ip) {
                acceptor.recordRejected(transport: transport, reason: refused)
                finished = true
                context.close(promise: nil)
                return
            }
            slot = .some(ip)
        }
        let channel = context.channel
        let acceptor = self.acceptor, transport = self.transport
        timer = context.eventLoop.scheduleTask(in: timeout) {
            acceptor.recordRejected(transport: transport, reason: Self.requestTimeout)
            channel.close(promise: nil)
        }
    }

    /// The request is complete: give the slot back and stop the clock.
    public func requestComplete() {
        timer?.cancel()
        timer = nil
        if let ip = slot {
            acceptor.releaseSocket(ip: ip)
            slot = nil
        }
    }

    /// The socket is gone or became a session's (a WebSocket after its upgrade): nothing more to guard.
    public func finish() {
        requestComplete()
        finished = true
    }
}
