public import GRPCCore
import Metrics
import NIOConcurrencyHelpers

/// How a role calls another over gRPC: each call carries a deadline; a call that could not reach
/// the peer (`unavailable`) is retried with exponential backoff; outcomes are counted in
/// `herald_rpc_calls_total{method,result}` and retries in `herald_rpc_retries_total{method}`.
public struct RPCCallPolicy: Sendable {
    /// The deadline of one attempt.
    public var timeout: Duration
    /// Attempts in all, the first included.
    public var attempts: Int
    /// The wait before the second attempt; doubled for each one after.
    public var backoff: Duration
    /// Calls in flight at once from this process to one pool of peers; more wait their turn
    /// before they are sent (their deadline starts when they are sent).
    public var maxInFlight: Int

    public init(timeout: Duration = .seconds(2), attempts: Int = 3, backoff: Duration = .milliseconds(100), maxInFlight: Int = 256) {
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.maxInFlight = max(1, maxInFlight)
    }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        return options
    }

    /// Runs `call`, retrying while the peer is unavailable.
    func run<Result: Sendable>(_ method: String, _ call: (CallOptions) async throws -> Result) async throws -> Result {
        var delay = backoff
        var attempt = 1
        while true {
            do {
                let result = try await call(options)
                RPCCounters.of(method).ok.increment()
                return result
            } catch let error as RPCError where error.code == .unavailable && attempt < attempts {
                RPCCounters.of(method).retries.increment()
                try await Task.sleep(for: delay)
                delay = delay * 2
                attempt += 1
            } catch {
                RPCCounters.of(method).error.increment()
                throw error
            }
        }
    }
}

/// The counters of one method, made once: a job pushes through them for every message and a comet
/// for every connection, so they are not looked up in the metrics backend per call.
struct RPCCounters {
    let ok: Counter
    let error: Counter
    let retries: Counter

    private static let byMethod = NIOLockedValueBox<[String: RPCCounters]>([:])

    static func of(_ method: String) -> RPCCounters {
        byMethod.withLockedValue { all in
            if let c = all[method] { return c }
            let c = RPCCounters(
                ok: Counter(label: "herald_rpc_calls_total", dimensions: [("method", method), ("result", "ok")]),
                error: Counter(label: "herald_rpc_calls_total", dimensions: [("method", method), ("result", "error")]),
                retries: Counter(label: "herald_rpc_retries_total", dimensions: [("method", method)])
            )
            all[method] = c
            return c
        }
    }
}
