public import NIOCore

/// Bounds a socket of an HTTP-based transport (a WebSocket upgrade, long-poll, SSE) while it has
/// not sent a complete request — the time a slow-loris client holds a socket for free.
///
/// Each request/response exchange on the socket starts a clock: from accept, and on a kept-alive
/// socket from the moment both the last request and its response are complete (a server may answer
/// before the request body has arrived — a 404, a 413 — and the socket must not escape the clock by
/// finishing its body afterwards). Until its request is complete the socket holds an admission
/// slot (`max_connections`, and per address `max_connections_per_ip`, apart from the sessions), and
/// it has `limits.requestTimeout` to complete it, or it is closed, counted as `request_timeout`. A
/// session the request opens is counted on its own. Used on the socket's event loop only.
public final class PendingRequestGuard {
    private let acceptor: any SessionAcceptor
    private let transport: String
    private let timeout: TimeAmount
    /// The IP the current slot was taken for (`.some(nil)` when the peer has no IP).
    private var slot: String??
    private var timer: Scheduled<Void>?
    /// The current exchange's request and response have ended.
    private var requestEnded = false
    private var responseEnded = false
    private var finished = false

    public static let requestTimeout = CloseReason("request_timeout")

    public init(acceptor: any SessionAcceptor, transport: String) {
        self.acceptor = acceptor
        self.transport = transport
        self.timeout = .nanoseconds(acceptor.limits.requestTimeout.nanoseconds)
    }

    /// The socket is open: the first exchange begins.
    public func opened(_ context: ChannelHandlerContext) {
        guard !finished, timer == nil, slot == nil else { return }
        beginExchange(context)
    }

    /// The current request is complete: give the slot back and stop the clock.
    public func requestComplete(_ context: ChannelHandlerContext) {
        guard !finished, !requestEnded else { return }
        requestEnded = true
        timer?.cancel()
        timer = nil
        releaseSlot()
        if responseEnded { beginExchange(context) }
    }

    /// The current response is complete; once its request is too, the next exchange begins.
    public func responseComplete(_ context: ChannelHandlerContext) {
        guard !finished, !responseEnded else { return }
        responseEnded = true
        if requestEnded { beginExchange(context) }
    }

    /// The socket is gone or became a session's (a WebSocket after its upgrade): nothing more to guard.
    public func finish() {
        timer?.cancel()
        timer = nil
        releaseSlot()
        finished = true
    }

    private func beginExchange(_ context: ChannelHandlerContext) {
        requestEnded = false
        responseEnded = false
        let ip = context.channel.remoteAddress?.ipAddress
        if let refused = acceptor.admitSocket(ip: ip) {
            acceptor.recordRejected(transport: transport, reason: refused)
            finished = true
            context.close(promise: nil)
            return
        }
        slot = .some(ip)
        let channel = context.channel
        let acceptor = self.acceptor, transport = self.transport
        timer = context.eventLoop.scheduleTask(in: timeout) {
            acceptor.recordRejected(transport: transport, reason: Self.requestTimeout)
            channel.close(promise: nil)
        }
    }

    private func releaseSlot() {
        if let ip = slot {
            acceptor.releaseSocket(ip: ip)
            slot = nil
        }
    }
}
