import Foundation
import NIOConcurrencyHelpers

/// A dedicated OS thread that drives a librdkafka handle: its blocking polls never run on an
/// event loop or on Swift's cooperative pool.
final class PollThread: Sendable {
    private struct State {
        var stopping = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    /// Starts `iterate` in a loop until ``stop()``; `finish` runs once on the thread afterwards.
    init(name: String, iterate: @escaping @Sendable () -> Void, finish: @escaping @Sendable () -> Void) {
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

    var isStopping: Bool { state.withLockedValue { $0.stopping } }

    /// Asks the loop to end after its current iteration and waits until `finish` has run.
    func stop() async {
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
