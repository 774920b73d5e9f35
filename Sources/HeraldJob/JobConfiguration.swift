public import HeraldCore

/// The job role's settings (`[job]`).
public struct JobConfiguration: Sendable {
    /// Largest room batch (op-9 body) sent to comets in one call, in bytes.
    public var roomBatchBytes = 32 * 1024
    /// Bytes of room messages waiting behind an in-flight batch before the job stops consuming.
    public var roomQueueBytes = 4 * 1024 * 1024
    /// Whether this process consumes the queue. A gateway can leave consuming to job processes
    /// elsewhere (`enabled = false`); logic then only publishes.
    public var enabled = true

    public init() {}

    /// Reads `[job]`.
    public init(table: ConfigTable) throws {
        roomBatchBytes = try table.int("room_batch_bytes", default: roomBatchBytes, in: 64...(16 << 20))
        roomQueueBytes = try table.int("room_queue_bytes", default: roomQueueBytes, in: 1024...(1 << 30))
        enabled = try table.bool("enabled", default: enabled)
    }
}
