import NIOConcurrencyHelpers

/// Counts calls to logic that run in the background (disconnect and heartbeat reports), so a comet
/// that shuts down can let them finish before it closes its logic client: connections closed by
/// the drain are still reported to logic.
final class PendingCalls: Sendable {
    private let count = NIOLockedValueBox(0)

    /// Runs `body` in a new task, counted until it ends.
    func run(_ body: @escaping @Sendable () async -> Void) {
        count.withLockedValue { $0 += 1 }
        Task {
            await body()
            count.withLockedValue { $0 -= 1 }
        }
    }

    /// Returns once no call is running, or after `timeout` (checked every 20 ms: this runs once,
    /// at shutdown).
    func finished(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while count.withLockedValue({ $0 }) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
