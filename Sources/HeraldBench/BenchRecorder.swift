import Atomics
import Histogram
import NIOConcurrencyHelpers

/// What the bench clients observed, shared by all connections.
final class BenchRecorder: Sendable {
    let authenticated = ManagedAtomic<Int>(0)
    let received = ManagedAtomic<Int>(0)
    let closed = ManagedAtomic<Int>(0)
    let failedConnects = ManagedAtomic<Int>(0)
    /// Failover bench: auth replies that named no room position (history off?).
    let unpositioned = ManagedAtomic<Int>(0)
    let lastReceiveNanos = ManagedAtomic<UInt64>(0)
    private let histogram = NIOLockedValueBox(Histogram<UInt64>(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three))

    private let kept = NIOLockedValueBox<[UInt64]?>(nil)

    /// Also keeps every latency sample, for a subscriber process to hand to the leader.
    func keepSamples() { kept.withLockedValue { $0 = [] } }

    var samples: [UInt64] { kept.withLockedValue { $0 ?? [] } }

    /// Adds latencies (microseconds) measured by one connection.
    func record(latenciesMicros: [UInt64]) {
        guard !latenciesMicros.isEmpty else { return }
        histogram.withLockedValue { h in
            for v in latenciesMicros { _ = h.record(max(1, v)) }
        }
        kept.withLockedValue { $0?.append(contentsOf: latenciesMicros) }
    }

    func latencyPercentiles() -> (p50: Double, p90: Double, p99: Double, p999: Double, max: Double, count: UInt64) {
        histogram.withLockedValue { h in
            (
                Double(h.valueAtPercentile(50)) / 1000,
                Double(h.valueAtPercentile(90)) / 1000,
                Double(h.valueAtPercentile(99)) / 1000,
                Double(h.valueAtPercentile(99.9)) / 1000,
                Double(h.max) / 1000,
                h.totalCount
            )
        }
    }

    func resetLatencies() {
        histogram.withLockedValue { $0 = Histogram<UInt64>(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three) }
    }
}
