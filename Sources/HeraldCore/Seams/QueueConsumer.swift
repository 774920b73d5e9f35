public import HeraldProtocol

/// The consuming side of a queue.
public protocol QueueConsumer: Sendable {
    /// The next delivery, or nil once the consumer was closed.
    func next() async throws -> QueueDelivery?
    /// Up to `max` deliveries: waits for the first, then takes what is already there without
    /// waiting; empty once the consumer was closed. The job consumes this way, so a backlog is
    /// handed over in one call and sent to each comet in one call.
    func nextBatch(max: Int) async throws -> [QueueDelivery]
    /// Marks a delivery as processed (the comets accepted it). Backends that redeliver commit here.
    func acknowledge(_ delivery: QueueDelivery) async throws
    /// Stops consuming; a pending ``next()`` returns nil.
    func close() async
}

extension QueueConsumer {
    /// One delivery at a time: for backends that have no cheaper way.
    public func nextBatch(max: Int) async throws -> [QueueDelivery] {
        guard let delivery = try await next() else { return [] }
        return [delivery]
    }
}

/// One consumed message and the backend's handle for acknowledging it.
public struct QueueDelivery: Sendable {
    public var message: PushMsg
    /// Backend-specific position (an offset, a sequence number).
    public var position: UInt64
    /// Backend-specific partition or stream (0 when the backend has one).
    public var partition: Int32

    public init(message: PushMsg, position: UInt64, partition: Int32 = 0) {
        self.message = message
        self.position = position
        self.partition = partition
    }
}
