public import HeraldProtocol
public import Logging

/// What a queue backend promises, declared by the plugin and reported at start-up.
public struct QueueGuarantees: Sendable, Hashable, CustomStringConvertible {
    /// Accepted messages survive a restart of the consuming process.
    public var durable: Bool
    /// Messages with the same key are consumed in publish order.
    public var orderedPerKey: Bool
    /// Messages not acknowledged are delivered again (at-least-once).
    public var redelivers: Bool

    public init(durable: Bool, orderedPerKey: Bool, redelivers: Bool) {
        self.durable = durable
        self.orderedPerKey = orderedPerKey
        self.redelivers = redelivers
    }

    public var description: String { "durable=\(durable) ordered_per_key=\(orderedPerKey) redelivers=\(redelivers)" }
}

/// A queue backend plugin: carries ``PushMsg`` from logic (publish) to job (consume).
public protocol QueueBackend: Sendable {
    var name: String { get }
    var guarantees: QueueGuarantees { get }

    /// Publishes one message. Returns once the backend accepted it according to its guarantees;
    /// throws ``QueueError`` when it could not (the push API then answers -500).
    func publish(_ message: PushMsg) async throws

    /// Opens the job side: a consumer of the queue.
    func makeConsumer() async throws -> any QueueConsumer

    /// Releases resources; pending publishes fail.
    func shutdown() async
}

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

/// A queue failure with a message fit for the API's -500 answer.
public struct QueueError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What a queue factory receives.
public struct QueueContext: Sendable {
    public var name: String
    public var config: ConfigTable
    public var logger: Logger
    /// Looks up other registered queue plugins (used by composite backends such as a migration).
    public var registry: PluginRegistry

    public init(name: String, config: ConfigTable, logger: Logger, registry: PluginRegistry) {
        self.name = name
        self.config = config
        self.logger = logger
        self.registry = registry
    }
}
