import HeraldCore
import HeraldProtocol

/// The lifecycle of one client connection: waiting for auth → authenticating → active → closed.
///
/// A value type that returns actions, so it is tested without I/O. The session performs the actions.
struct ConnectionStateMachine {
    enum State: Equatable {
        case awaitingAuth
        case authenticating(buffered: Int)
        case active
        case closed(wasActive: Bool)
    }

    enum PacketAction: Equatable {
        /// Start authentication with this packet.
        case authenticate
        /// Keep the packet until auth completes.
        case buffer
        /// Drop the packet (before auth, goim ignores non-auth packets).
        case ignore
        /// Handle the packet as an active connection.
        case handle
        /// Close the connection.
        case close(CloseReason)
    }

    enum AuthResultAction: Equatable {
        /// Register the connection and reply op 8.
        case activate
        /// The connection closed while logic was answering: undo the mapping in logic.
        case undoMapping
        /// Close the connection (logic refused it).
        case close(CloseReason)
        case none
    }

    enum CloseAction: Equatable {
        /// Unregister an active connection.
        case unregister
        /// Nothing was registered yet.
        case none
    }

    private(set) var state: State = .awaitingAuth
    let maxBufferedPackets: Int

    init(maxBufferedPackets: Int) {
        self.maxBufferedPackets = maxBufferedPackets
    }

    var isActive: Bool { state == .active }

    mutating func packetReceived(_ operation: Operation) -> PacketAction {
        switch state {
        case .awaitingAuth:
            guard operation == .auth else { return .ignore }
            state = .authenticating(buffered: 0)
            return .authenticate
        case .authenticating(let n):
            guard n < maxBufferedPackets else { return .close(.tooManyPendingPackets) }
            state = .authenticating(buffered: n + 1)
            return .buffer
        case .active:
            return .handle
        case .closed:
            return .ignore
        }
    }

    mutating func authSucceeded() -> AuthResultAction {
        switch state {
        case .authenticating:
            state = .active
            return .activate
        case .closed:
            return .undoMapping
        case .awaitingAuth, .active:
            return .none
        }
    }

    mutating func authFailed(_ reason: String) -> AuthResultAction {
        switch state {
        case .authenticating: return .close(.authFailed(reason))
        default: return .none
        }
    }

    /// A deadline passed: handshake timeout before activation, heartbeat timeout after.
    func deadlinePassed() -> CloseReason? {
        switch state {
        case .awaitingAuth, .authenticating: .handshakeTimeout
        case .active: .heartbeatTimeout
        case .closed: nil
        }
    }

    mutating func linkClosed() -> CloseAction {
        switch state {
        case .active:
            state = .closed(wasActive: true)
            return .unregister
        case .awaitingAuth, .authenticating:
            state = .closed(wasActive: false)
            return .none
        case .closed:
            return .none
        }
    }
}
