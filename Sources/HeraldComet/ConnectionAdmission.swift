import HeraldCore
import NIOConcurrencyHelpers

/// Admits new connections under the process-wide and per-IP limits (`max_connections`,
/// `max_connections_per_ip`). Counted from the moment a socket is opened, before auth, so a flood
/// of unauthenticated sockets is bounded too.
///
/// Sockets of HTTP-based transports that have not sent their first request yet ("pending", see
/// `PendingRequestGuard`) count against `max_connections` with the sessions, and per IP on their
/// own: one address may hold `max_connections_per_ip` sessions and as many pending sockets, so a
/// slow-loris client cannot crowd out the sessions of its own address, nor they its new sockets.
final class ConnectionAdmission: Sendable {
    private struct State {
        var maxTotal: Int
        var maxPerIP: Int
        var total = 0
        var perIP: [String: Int] = [:]
        var pendingPerIP: [String: Int] = [:]
    }

    private let state: NIOLockedValueBox<State>

    init(maxTotal: Int, maxPerIP: Int) {
        state = NIOLockedValueBox(State(maxTotal: maxTotal, maxPerIP: maxPerIP))
    }

    /// Changes the limits (SIGHUP). Connections above a lowered limit stay; new ones wait for room.
    func setLimits(maxTotal: Int, maxPerIP: Int) {
        state.withLockedValue {
            $0.maxTotal = maxTotal
            $0.maxPerIP = maxPerIP
        }
    }

    static let tooMany = CloseReason("too_many_connections")
    static let tooManyFromIP = CloseReason("too_many_connections_from_ip")

    /// Takes a slot for a connection (a session) from `ip`, or says which limit refuses it.
    func admit(_ ip: String?) -> CloseReason? { take(ip, counted: \.perIP) }

    /// Gives back the slot of an admitted connection.
    func release(_ ip: String?) { give(ip, counted: \.perIP) }

    /// Takes a slot for a pending socket from `ip`, or says which limit refuses it.
    func admitPending(_ ip: String?) -> CloseReason? { take(ip, counted: \.pendingPerIP) }

    /// Gives back the slot of a pending socket.
    func releasePending(_ ip: String?) { give(ip, counted: \.pendingPerIP) }

    private func take(_ ip: String?, counted perIP: WritableKeyPath<State, [String: Int]>) -> CloseReason? {
        state.withLockedValue { s in
            if s.maxTotal > 0 && s.total >= s.maxTotal { return Self.tooMany }
            if s.maxPerIP > 0, let ip, s[keyPath: perIP][ip, default: 0] >= s.maxPerIP { return Self.tooManyFromIP }
            s.total += 1
            if let ip { s[keyPath: perIP][ip, default: 0] += 1 }
            return nil
        }
    }

    private func give(_ ip: String?, counted perIP: WritableKeyPath<State, [String: Int]>) {
        state.withLockedValue { s in
            s.total -= 1
            if let ip {
                let n = s[keyPath: perIP][ip, default: 1] - 1
                s[keyPath: perIP][ip] = n > 0 ? n : nil
            }
        }
    }
}
