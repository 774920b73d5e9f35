import DequeModule
public import HeraldProtocol
import NIOConcurrencyHelpers

/// Packets a test client received, in order, awaited with a timeout.
public final class PacketInbox: Sendable {
    private struct State {
        var packets = Deque<Packet>()
        var closed = false
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    func append(_ packet: Packet) {
        state.withLockedValue { $0.packets.append(packet) }
    }

    func close() {
        state.withLockedValue { $0.closed = true }
    }

    /// True once the connection closed.
    public var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// Packets received and not yet taken.
    public var pending: Int { state.withLockedValue { $0.packets.count } }

    /// The next packet, or nil when the connection closed or `timeout` passed first.
    public func next(timeout: Duration = .seconds(5)) async -> Packet? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (packet, closed) = state.withLockedValue { s in (s.packets.popFirst(), s.closed) }
            if let packet { return packet }
            if closed || ContinuousClock.now >= deadline { return nil }
            await waitForChange(until: deadline)
        }
    }

    /// Waits until the connection closed; false if `timeout` passed first.
    public func waitForClose(timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isClosed {
            if ContinuousClock.now >= deadline { return false }
            await waitForChange(until: deadline)
            state.withLockedValue { $0.packets.removeAll() }
        }
        return true
    }

    private func waitForChange(until deadline: ContinuousClock.Instant) async {
        // Short polls keep this simple and free of lost wake-ups; it is test tooling.
        let slice = min(Duration.milliseconds(2), max(.zero, deadline - ContinuousClock.now))
        try? await Task.sleep(for: slice)
    }
}
