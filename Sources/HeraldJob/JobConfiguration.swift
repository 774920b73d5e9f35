public import HeraldCore

/// The job role's settings (`[job]`).
public struct JobConfiguration: Sendable {
    /// Largest merged batch (op-9 body) sent to a comet in one call, in bytes.
    public var roomBatchBytes = 32 * 1024
    /// Bytes waiting for one comet (behind its calls in flight) before the job stops consuming.
    public var cometQueueBytes = 4 * 1024 * 1024
    /// Calls in flight to one comet at once (each for a different order key: a user's first key,
    /// a room, a broadcast operation).
    public var cometInFlight = 32
    /// The wait before retrying a call a comet did not accept; doubled for each retry up to
    /// ``retryBackoffMax``. A comet is retried until it accepts or leaves the registry.
    public var retryBackoff: Duration = .milliseconds(100)
    public var retryBackoffMax: Duration = .seconds(5)
    /// On shutdown, how long the job keeps delivering what it consumed; what is left then is not
    /// acknowledged (a redelivering queue hands it to the next job).
    public var drainTimeout: Duration = .seconds(10)
    /// Whether this process consumes the queue. A gateway can leave consuming to job processes
    /// elsewhere (`enabled = false`); logic then only publishes.
    public var enabled = true

    public init() {}

    /// Reads `[job]`.
    public init(table: ConfigTable) throws {
        // Below the comets' gRPC request limit (4 MiB), with room for the envelope and identities.
        roomBatchBytes = try table.int("room_batch_bytes", default: roomBatchBytes, in: 64...(3 << 20))
        cometQueueBytes = try table.int("comet_queue_bytes", default: cometQueueBytes, in: 1024...(1 << 30))
        cometInFlight = try table.int("comet_in_flight", default: cometInFlight, in: 1...4096)
        retryBackoff = try table.duration("retry_backoff", default: retryBackoff)
        retryBackoffMax = try table.duration("retry_backoff_max", default: retryBackoffMax)
        drainTimeout = try table.duration("drain_timeout", default: drainTimeout)
        enabled = try table.bool("enabled", default: enabled)
        guard retryBackoff > .zero else { throw ConfigError(key: table.keyPath("retry_backoff"), message: "must be positive") }
        guard retryBackoffMax >= retryBackoff else {
            throw ConfigError(key: table.keyPath("retry_backoff_max"), message: "must not be shorter than retry_backoff")
        }
    }
}
