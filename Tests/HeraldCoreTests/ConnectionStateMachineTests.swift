import HeraldCore
import HeraldProtocol
import Testing

@testable import HeraldComet

@Suite("connection state machine")
struct ConnectionStateMachineTests {
    @Test("before auth, non-auth packets are ignored; op 7 starts auth")
    func awaitingAuth() {
        var m = ConnectionStateMachine(maxBufferedPackets: 2)
        #expect(m.packetReceived(.heartbeat) == .ignore)
        #expect(m.packetReceived(.auth) == .authenticate)
        #expect(m.state == .authenticating(buffered: 0))
    }

    @Test("packets during auth are buffered up to the limit, then the connection closes")
    func buffering() {
        var m = ConnectionStateMachine(maxBufferedPackets: 2)
        _ = m.packetReceived(.auth)
        #expect(m.packetReceived(.heartbeat) == .buffer)
        #expect(m.packetReceived(.sub) == .buffer)
        #expect(m.packetReceived(.heartbeat) == .close(.tooManyPendingPackets))
    }

    @Test("auth success activates; deadlines then mean heartbeat timeout")
    func activation() {
        var m = ConnectionStateMachine(maxBufferedPackets: 2)
        #expect(m.deadlinePassed() == .handshakeTimeout)
        _ = m.packetReceived(.auth)
        #expect(m.authSucceeded() == .activate)
        #expect(m.isActive)
        #expect(m.packetReceived(.heartbeat) == .handle)
        #expect(m.deadlinePassed() == .heartbeatTimeout)
        #expect(m.linkClosed() == .unregister)
        #expect(m.linkClosed() == CloseAction.none)
        #expect(m.deadlinePassed() == nil)
    }

    @Test("a connection that closed while logic answered undoes the mapping")
    func closedDuringAuth() {
        var m = ConnectionStateMachine(maxBufferedPackets: 2)
        _ = m.packetReceived(.auth)
        #expect(m.linkClosed() == CloseAction.none)
        #expect(m.authSucceeded() == .undoMapping)
    }

    @Test("auth failure closes with the reason")
    func authFailure() {
        var m = ConnectionStateMachine(maxBufferedPackets: 2)
        _ = m.packetReceived(.auth)
        #expect(m.authFailed("bad token") == .close(.authFailed("bad token")))
        _ = m.linkClosed()
        #expect(m.authFailed("again") == AuthAction.none)
    }

    typealias CloseAction = ConnectionStateMachine.CloseAction
    typealias AuthAction = ConnectionStateMachine.AuthResultAction
}
