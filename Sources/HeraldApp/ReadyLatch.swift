import NIOConcurrencyHelpers

/// A value published once and awaited by any number of tasks.
final class ReadyLatch<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var failure: (any Error)?
        var waiters: [Int: CheckedContinuation<Value, any Error>] = [:]
        var nextWaiter = 0
    }

    private let state = NIOLockedValueBox(State())

    func publish(_ value: Value) {
        let waiters = state.withLockedValue { s in
            s.value = value
            let w = s.waiters
            s.waiters = [:]
            return w
        }
        for w in waiters.values { w.resume(returning: value) }
    }

    func fail(_ error: any Error) {
        let waiters = state.withLockedValue { s in
            s.failure = error
            let w = s.waiters
            s.waiters = [:]
            return w
        }
        for w in waiters.values { w.resume(throwing: error) }
    }

    /// The value once published; throws the failure, or `CancellationError` when the waiting
    /// task is cancelled first (a service group that stops because another service failed must
    /// not wait for a value that will never come).
    func wait() async throws -> Value {
        let id = state.withLockedValue { s in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { c in
                let ready: Result<Value, any Error>? = state.withLockedValue { s in
                    if let v = s.value { return .success(v) }
                    if let e = s.failure { return .failure(e) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.waiters[id] = c
                    return nil
                }
                if let ready { c.resume(with: ready) }
            }
        } onCancel: {
            let waiter = state.withLockedValue { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
