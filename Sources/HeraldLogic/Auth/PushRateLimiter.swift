import HeraldCore
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// A token bucket over the push endpoints (`[logic] push_rate_limit` pushes/s, `push_burst`):
/// over the limit a push is answered HTTP 429 with code -429 and counted; it is never queued.
final class PushRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var last: ContinuousClock.Instant
    }

    private let rate: Double
    private let burst: Double
    private let bucket: NIOLockedValueBox<Bucket>
    private let refused = Counter(label: "herald_api_rate_limited_total")
    private let log = RateLimitedLog(interval: .seconds(1))
    private let logger: Logger

    init(rate: Double, burst: Int, logger: Logger) {
        self.rate = rate
        self.burst = Double(max(1, burst))
        self.bucket = NIOLockedValueBox(Bucket(tokens: Double(max(1, burst)), last: .now))
        self.logger = logger
    }

    /// Takes one push from the bucket; the refusal to answer when it is empty.
    func take() -> APIAnswer? {
        let now = ContinuousClock.now
        let allowed = bucket.withLockedValue { b in
            let elapsed = now - b.last
            b.last = now
            b.tokens = min(burst, b.tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            guard b.tokens >= 1 else { return false }
            b.tokens -= 1
            return true
        }
        guard !allowed else { return nil }
        refused.increment()
        log.log(logger, "push API rate limit reached", metadata: ["limit.per_second": "\(rate)"])
        return .refusal(.tooManyRequests, code: -429, "push_rate_limit: too many pushes, retry later", headers: [.retryAfter: "1"])
    }
}
