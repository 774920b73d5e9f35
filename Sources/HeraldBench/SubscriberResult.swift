/// What a subscriber process of a multi-process bench reports to the leader (one JSON line).
public struct SubscriberResult: Codable, Sendable {
    public var connections: Int
    public var authenticated: Int
    public var received: Int
    /// Monotonic clock (shared by the processes of one machine) of the last message received.
    public var lastReceiveNanos: UInt64
    /// Sampled publish → receive latencies, microseconds.
    public var latenciesMicros: [UInt64]
    /// Resident memory and CPU are the leader's business; connection setup time is reported.
    public var connectSeconds: Double
}
