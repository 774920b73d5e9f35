import Atomics
public import HeraldCore
import Logging
import Metrics
import NIOConcurrencyHelpers

/// The comet's counters, exported through swift-metrics and readable in-process (`snapshot()`).
public final class CometMetrics: Sendable {
    private let connections = ManagedAtomic<Int>(0)
    private let authOK = ManagedAtomic<Int>(0)
    private let authFailed = ManagedAtomic<Int>(0)
    private let delivered = ManagedAtomic<Int>(0)
    private let dropped = ManagedAtomic<Int>(0)
    private let closes = NIOLockedValueBox<[String: Int]>([:])
    private let closeCounters = NIOLockedValueBox<[String: Counter]>([:])
    private let closeLog = RateLimitedLog(interval: .seconds(1))

    private let connectionsGauge = Gauge(label: "herald_connections")
    private let authCounter = Counter(label: "herald_auth_total", dimensions: [("result", "ok")])
    private let authFailedCounter = Counter(label: "herald_auth_total", dimensions: [("result", "failed")])
    private let deliveredCounter = Counter(label: "herald_push_delivered_total")
    private let droppedCounter = Counter(label: "herald_push_dropped_total", dimensions: [("reason", "slow_consumer")])
    /// Op 12 / op 14 requests for a room or operation the connection's token does not grant.
    let roomRefused = Counter(label: "herald_client_requests_refused_total", dimensions: [("reason", "room_not_granted")])
    let operationRefused = Counter(label: "herald_client_requests_refused_total", dimensions: [("reason", "operation_not_granted")])
    let upstreamBusy = Counter(label: "herald_client_requests_refused_total", dimensions: [("reason", "upstream_busy")])

    public init() {}

    /// A point-in-time copy of the counters.
    public struct Snapshot: Sendable, Hashable {
        public var connections: Int
        public var authOK: Int
        public var authFailed: Int
        public var delivered: Int
        public var dropped: Int
        public var closes: [String: Int]
    }

    public func snapshot() -> Snapshot {
        Snapshot(
            connections: connections.load(ordering: .relaxed),
            authOK: authOK.load(ordering: .relaxed),
            authFailed: authFailed.load(ordering: .relaxed),
            delivered: delivered.load(ordering: .relaxed),
            dropped: dropped.load(ordering: .relaxed),
            closes: closes.withLockedValue { $0 }
        )
    }

    func connectionOpened() {
        let n = connections.wrappingIncrementThenLoad(ordering: .relaxed)
        connectionsGauge.record(n)
    }

    func connectionClosed(_ reason: CloseReason, logger: Logger) {
        let n = connections.wrappingDecrementThenLoad(ordering: .relaxed)
        connectionsGauge.record(n)
        recordClose(reason, logger: logger)
    }

    /// Counts a close; logs it at most once per second per reason (except ordinary client closes).
    func recordClose(_ reason: CloseReason, logger: Logger) {
        closes.withLockedValue { $0[reason.label, default: 0] += 1 }
        let counter = closeCounters.withLockedValue { counters in
            if let c = counters[reason.label] { return c }
            let c = Counter(label: "herald_connections_closed_total", dimensions: [("reason", reason.label)])
            counters[reason.label] = c
            return c
        }
        counter.increment()
        guard reason != .clientClosed else { return }
        if closeLog.shouldLog(reason.label) {
            logger.info("connection closed", metadata: ["close.reason": "\(reason.label)", "close.detail": "\(reason.detail)"])
        }
    }

    func authSucceeded() {
        authOK.wrappingIncrement(ordering: .relaxed)
        authCounter.increment()
    }

    /// `herald_recoveries_total{result}`: connections that opted into recovery, by outcome.
    func recovery(_ recovered: Bool) {
        (recovered ? recoveredCounter : notRecoveredCounter).increment()
    }

    private let recoveredCounter = Counter(label: "herald_recoveries_total", dimensions: [("result", "recovered")])
    private let notRecoveredCounter = Counter(label: "herald_recoveries_total", dimensions: [("result", "not_recovered")])

    func authRefused() {
        authFailed.wrappingIncrement(ordering: .relaxed)
        authFailedCounter.increment()
    }

    func delivered(_ n: Int) {
        guard n > 0 else { return }
        delivered.wrappingIncrement(by: n, ordering: .relaxed)
        deliveredCounter.increment(by: Int64(n))
    }

    func dropped(_ n: Int) {
        guard n > 0 else { return }
        dropped.wrappingIncrement(by: n, ordering: .relaxed)
        droppedCounter.increment(by: Int64(n))
    }
}
