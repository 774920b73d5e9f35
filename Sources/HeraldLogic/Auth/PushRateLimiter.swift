import HeraldCore
import Hummingbird
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// A token bucket over the push endpoints (`[logic] push_rate_limit` pushes/s, `push_burst`):
/// over the limit a push is answered HTTP 429 with code -429 and counted; it is never queued.
struct PushRateLimiter<Context: RequestContext>: RouterMiddleware {
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

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.contains("/push/") else { return try await next(request, context) }
        let now = ContinuousClock.now
        let allowed = bucket.withLockedValue { b in
            let elapsed = now - b.last
            b.last = now
            b.tokens = min(burst, b.tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            guard b.tokens >= 1 else { return false }
            b.tokens -= 1
            return true
        }
        guard allowed else {
            refused.increment()
            log.log(logger, "push API rate limit reached", metadata: ["limit.per_second": "\(rate)"])
            return Response(
                status: .tooManyRequests,
                headers: [.contentType: "application/json; charset=utf-8", .retryAfter: "1"],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(string: #"{"code":-429,"message":"push_rate_limit: too many pushes, retry later"}"#))
            )
        }
        return try await next(request, context)
    }
}
