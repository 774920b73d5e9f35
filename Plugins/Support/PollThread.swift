import Foundation
import NIOConcurrencyHelpers

/// A dedicated OS thread for a plugin's blocking C calls (librdkafka polls, zmq receives): they
/// never run on an event loop or on Swift's cooperative pool.
public final class PollThread: Sendable {
    private struct State {
        var stopping = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    /// Starts `iterate` in a loop until ``stop()``; `finish` runs once on the thread afterwards.
    public init(name: String, iterate: @escaping @Sendable () -> Void, finish: @escaping @Sendable () -> Void) {
        let thread = Thread { [state] in
            while !state.withLockedValue({ $0.stopping }) { iterate() }
            finish()
            let waiters = state.withLockedValue { s in
                s.finished = true
                defer { s.waiters = [] }
                return s.waiters
            }
            for w in waiters { w.resume() }
        }
        thread.name = name
        thread.start()
    }

    public var isStopping: Bool { state.withLockedValue { $0.stopping } }

    /// Asks the loop to end after its current iteration and waits until `finish` has run.
    public func stop() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { s in
                s.stopping = true
                if s.finished { return true }
                s.waiters.append(c)
                return false
            }
            if done { c.resume() }
        }
    }
}
