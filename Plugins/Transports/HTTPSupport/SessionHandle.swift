public import HeraldCore
public import HeraldProtocol

/// What an HTTP-based link (long-poll, SSE) keeps of its comet session: the session itself, and
/// the replies the session produces while one client request is being handled — those answer that
/// request instead of going to the client's stream. Confined to the link's event loop.
public final class SessionHandle {
    public var session: (any ClientSession)?
    private var captured: [Packet]?

    public init() {}

    /// Hands `packet` to the session and returns the replies it produced synchronously.
    public func submit(_ packet: Packet) -> [Packet] {
        captured = []
        session?.receive(packet)
        defer { captured = nil }
        return captured ?? []
    }

    /// While a request is handled, keeps `packets` as its replies and returns true; otherwise
    /// returns false and the link delivers them as usual.
    public func capture(_ packets: [Packet]) -> Bool {
        guard captured != nil else { return false }
        captured!.append(contentsOf: packets)
        return true
    }

    /// Tells the session, once, that its link closed.
    public func linkClosed(_ reason: CloseReason) {
        guard let session else { return }
        self.session = nil
        session.linkClosed(reason)
    }
}

@available(*, unavailable)
extension SessionHandle: Sendable {}
