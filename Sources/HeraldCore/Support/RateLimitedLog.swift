public import Logging
import NIOConcurrencyHelpers

/// Logs a recurring condition at most once per interval per topic, so a flood of bad input or a
/// broker outage cannot flood the log. Counting is the caller's job (metrics see every event).
public final class RateLimitedLog: Sendable {
    private let interval: Duration
    private let last = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])

    public init(interval: Duration) { self.interval = interval }

    /// True when `topic` was not logged within the interval (and records it as logged now).
    public func shouldLog(_ topic: String) -> Bool {
        let now = ContinuousClock.now
        return last.withLockedValue { last in
            if let t = last[topic], now - t < interval { return false }
            last[topic] = now
            return true
        }
    }

    /// Logs `message` at `level` unless the same message was logged within the interval.
    public func log(
        _ logger: Logger,
        level: Logger.Level = .warning,
        _ message: @autoclosure () -> String,
        metadata: Logger.Metadata = [:]
    ) {
        let text = message()
        guard shouldLog(text) else { return }
        logger.log(level: level, "\(text)", metadata: metadata)
    }
}
