/// The figures of one `herald bench` run.
public struct BenchReport: Sendable {
    public var transport: String
    public var connections: Int
    public var failedConnections: Int
    public var connectSeconds: Double
    public var serverBytesPerConnection: Double?
    public var messages: Int
    public var expected: Int
    public var received: Int
    public var pushSeconds: Double
    public var latency: (p50: Double, p90: Double, p99: Double, p999: Double, max: Double, count: UInt64)
    public var serverCPUPercent: Double?
    public var serverRSSBytes: Int?

    public var lost: Int { max(0, expected - received) }
    public var deliveriesPerSecond: Double { pushSeconds > 0 ? Double(received) / pushSeconds : 0 }
    /// Messages through the whole path (API → queue → job → comet → client) per second.
    public var pushesPerSecond: Double { pushSeconds > 0 ? Double(messages) / pushSeconds : 0 }
    public var connectsPerSecond: Double { connectSeconds > 0 ? Double(connections - failedConnections) / connectSeconds : 0 }

    public var summary: String {
        func f(_ v: Double, _ digits: Int = 1) -> String {
            let p = (0..<digits).reduce(1.0) { r, _ in r * 10 }
            return String((v * p).rounded() / p)
        }
        var lines = [
            "transport            \(transport)",
            "connections          \(connections - failedConnections) ok, \(failedConnections) failed, \(f(connectsPerSecond, 0)) conn/s",
        ]
        if let b = serverBytesPerConnection { lines.append("server memory        \(f(b / 1024, 2)) KiB per idle authenticated connection") }
        lines += [
            "messages             \(messages) pushed, \(expected) deliveries expected, \(received) received, \(lost) lost",
            "throughput           \(f(deliveriesPerSecond, 0)) deliveries/s, \(f(pushesPerSecond, 0)) pushes/s end to end, over \(f(pushSeconds, 3)) s",
            "latency (ms)         p50 \(f(latency.p50, 2))  p90 \(f(latency.p90, 2))  p99 \(f(latency.p99, 2))  p99.9 \(f(latency.p999, 2))  max \(f(latency.max, 2))  (\(latency.count) samples)",
        ]
        if let cpu = serverCPUPercent { lines.append("server CPU           \(f(cpu, 0))% during pushes") }
        if let rss = serverRSSBytes { lines.append("server RSS           \(f(Double(rss) / 1_048_576, 1)) MiB at the end") }
        return lines.joined(separator: "\n")
    }
}
