public import HeraldCore
import NIOConcurrencyHelpers

/// The sessions of an HTTP-based transport (long-poll, SSE) by id, and whether it takes new ones.
///
/// When the gateway stops accepting, new sessions are refused (the transport answers 503) while
/// open ones stay for the drain; at shutdown what the drain left open is closed on its own event
/// loop, and a transport whose closed sessions still have something to fetch waits for them.
public final class HTTPSessionTable<Link: ClientLink & Sendable>: Sendable {
    private let state = NIOLockedValueBox<(links: [String: Link], accepting: Bool)>(([:], true))

    public init() {}

    public var count: Int { state.withLockedValue { $0.links.count } }
    public var isAccepting: Bool { state.withLockedValue { $0.accepting } }

    public subscript(id: String) -> Link? { state.withLockedValue { $0.links[id] } }

    public func add(_ link: Link, id: String) { state.withLockedValue { $0.links[id] = link } }

    public func remove(id: String) { _ = state.withLockedValue { $0.links.removeValue(forKey: id) } }

    /// Refuses new sessions from now on.
    public func stopAccepting() { state.withLockedValue { $0.accepting = false } }

    /// Closes every session still open, each on its event loop, as a server shutdown.
    public func closeAll() async {
        for link in state.withLockedValue({ Array($0.links.values) }) {
            try? await link.eventLoop.submit { link.close(.serverShutdown) }.get()
        }
    }

    /// Waits until every session was removed, or `deadline` passed.
    public func waitUntilEmpty(before deadline: ContinuousClock.Instant) async {
        while count > 0, ContinuousClock.now < deadline {
            do { try await Task.sleep(for: .milliseconds(10)) } catch { return }
        }
    }
}
