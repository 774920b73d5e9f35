import Atomics
public import HeraldCore
public import HeraldProtocol
public import Logging
import Metrics

/// The `kafka` queue plugin: logic publishes goim's PushMsg onto a Kafka topic (byte-compatible
/// with goim's logic, keyed as goim keys it), job consumes it in a consumer group and commits only
/// what the comets accepted.
///
/// Guarantees: durable (the broker keeps the log), ordered per partitioning key, redelivers what
/// was not committed (at-least-once; a rebalance can deliver a message twice).
public final class KafkaQueue: QueueBackend {
    public let name: String
    public let configuration: KafkaConfiguration
    public var guarantees: QueueGuarantees { QueueGuarantees(durable: true, orderedPerKey: true, redelivers: true) }
    /// The in-process development broker, when `dev_broker = true`.
    public let devBroker: KafkaDevBroker?
    /// The bootstrap list clients use.
    public let brokers: String
    private let producer: KafkaProducer
    private let logger: Logger
    private let publishedTotal = ManagedAtomic<Int>(0)

    /// Messages this backend accepted since it started.
    public var publishedCount: Int { publishedTotal.load(ordering: .relaxed) }
    private let published = Counter(label: "herald_queue_published_total", dimensions: [("queue", "kafka")])
    private let publishFailed = Counter(label: "herald_queue_errors_total", dimensions: [("queue", "kafka"), ("side", "publish")])
    private let publishLatency = Timer(label: "herald_queue_publish_seconds", dimensions: [("queue", "kafka")])

    public init(name: String = "kafka", configuration: KafkaConfiguration, logger: Logger) throws {
        self.name = name
        self.configuration = configuration
        self.logger = logger
        if configuration.devBroker {
            let broker = try KafkaDevBroker(
                brokers: configuration.devBrokerCount,
                topics: [configuration.topic: configuration.devBrokerPartitions],
                logger: logger
            )
            logger.notice(
                "kafka development broker started (librdkafka mock cluster, not Kafka: nothing survives the process)",
                metadata: ["kafka.bootstrap": "\(broker.bootstrapServers)"]
            )
            devBroker = broker
            brokers = broker.bootstrapServers
        } else {
            devBroker = nil
            brokers = configuration.brokers.joined(separator: ",")
        }
        var properties = configuration.producerProperties
        properties["bootstrap.servers"] = brokers
        producer = try KafkaProducer(properties: properties, topic: configuration.topic, logger: logger)
    }

    /// Registers the plugin under `kafka`; settings from `[queue.kafka]` (see ``KafkaConfiguration``).
    public static func register(in registry: inout PluginRegistry) {
        registry.registerQueue("kafka") { context in
            try KafkaQueue(name: context.name, configuration: KafkaConfiguration(context.config), logger: context.logger)
        }
    }

    public func publish(_ message: PushMsg) async throws {
        let value: [UInt8] = try message.serializedBytes()
        let start = ContinuousClock.now
        do {
            try await producer.produce(key: Array(message.partitionKey.utf8), value: value)
            published.increment()
            publishedTotal.wrappingIncrement(ordering: .relaxed)
            publishLatency.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        } catch {
            publishFailed.increment()
            throw error
        }
    }

    public func makeConsumer() async throws -> any QueueConsumer {
        try KafkaConsumer(configuration: configuration, brokers: brokers, logger: logger)
    }

    public func shutdown() async {
        await producer.shutdown(flushTimeout: .seconds(5))
    }
}
