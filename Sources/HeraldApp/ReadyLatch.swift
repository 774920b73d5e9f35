import NIOConcurrencyHelpers

/// A value published once and awaited by any number of tasks.
final class ReadyLatch<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var failure: (any Error)?
        var waiters: [CheckedContinuation<Value, any Error>] = []
    }

    private let state = NIOLockedValueBox(State())

    func publish(_ value: Value) {
        let waiters = state.withLockedValue { s in
            s.value = value
            let w = s.waiters
            s.waiters = []
            return w
        }
        for w in waiters { w.resume(returning: value) }
    }

    func fail(_ error: any Error) {
        let waiters = state.withLockedValue { s in
            s.failure = error
            let w = s.waiters
            s.waiters = []
            return w
        }
        for w in waiters { w.resume(throwing: error) }
    }

    func wait() async throws -> Value {
        try await withCheckedThrowingContinuation { c in
            let ready: Result<Value, any Error>? = state.withLockedValue { s in
                if let v = s.value { return .success(v) }
                if let e = s.failure { return .failure(e) }
                s.waiters.append(c)
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
    }
}
