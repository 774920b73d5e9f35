import NIOConcurrencyHelpers
import NIOCore

/// At most `limit` calls at once to one peer; the rest wait in arrival order. A comet in a connect
/// storm would otherwise open thousands of streams at once on its one HTTP/2 connection to logic:
/// calls that queue in the peer miss their deadlines together, and their cancellations cost more
/// than the calls. Waiting here costs nothing on the peer, and a waiting call whose task is
/// cancelled (its client went away) leaves the line without ever being sent.
final class CallPermits: Sendable {
    private struct State {
        var available: Int
        var nextTicket = 0
        var order = CircularBuffer<Int>()
        var waiting: [Int: CheckedContinuation<Void, any Error>] = [:]
    }

    private let state: NIOLockedValueBox<State>

    init(limit: Int) {
        state = NIOLockedValueBox(State(available: max(1, limit)))
    }

    /// Runs `body` holding one permit.
    func with<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        // A free permit is taken at once; otherwise the call gets its place in line.
        let ticket: Int? = state.withLockedValue { s in
            if s.available > 0, s.order.isEmpty {
                s.available -= 1
                return nil
            }
            defer { s.nextTicket += 1 }
            return s.nextTicket
        }
        guard let ticket else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                enum Outcome { case wait, go, cancelled }
                let outcome: Outcome = state.withLockedValue { s in
                    if Task.isCancelled { return .cancelled }
                    // A permit released since the first look goes to this call if nobody is ahead.
                    if s.available > 0, s.order.isEmpty {
                        s.available -= 1
                        return .go
                    }
                    s.order.append(ticket)
                    s.waiting[ticket] = c
                    return .wait
                }
                switch outcome {
                case .wait: break
                case .go: c.resume()
                case .cancelled: c.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            state.withLockedValue { $0.waiting.removeValue(forKey: ticket) }?.resume(throwing: CancellationError())
        }
    }

    /// Hands the permit to the longest waiter still waiting, or returns it.
    private func release() {
        let next: CheckedContinuation<Void, any Error>? = state.withLockedValue { s in
            while let ticket = s.order.popFirst() {
                if let c = s.waiting.removeValue(forKey: ticket) { return c }
            }
            s.available += 1
            return nil
        }
        next?.resume()
    }
}
