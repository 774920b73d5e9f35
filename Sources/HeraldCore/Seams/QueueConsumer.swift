public import HeraldProtocol

/// The consuming side of a queue.
public protocol QueueConsumer: Sendable {
    /// The next delivery, or nil once the consumer was closed.
    func next() async throws -> QueueDelivery?
    /// Marks a delivery as processed (the comets accepted it). Backends that redeliver commit here.
    func acknowledge(_ delivery: QueueDelivery) async throws
    /// Stops consuming; a pending ``next()`` returns nil.
    func close() async
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
