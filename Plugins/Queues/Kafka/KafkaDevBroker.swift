import CRdKafka
import HeraldCore
public import Logging

/// A development broker: librdkafka's mock cluster, which speaks the Kafka protocol on loopback
/// ports chosen by the system. It is **not Kafka** — nothing is written to disk, there is no
/// replication, and it lives as long as this object — but real Kafka clients (Herald's, goim's,
/// `kcat`) talk to it, and it can take brokers down and inject request errors for fault tests.
public final class KafkaDevBroker: Sendable {
    /// The bootstrap list to give clients, e.g. `127.0.0.1:40123,127.0.0.1:40125`.
    public let bootstrapServers: String
    public let brokerCount: Int
    private let handle: KafkaHandle
    private nonisolated(unsafe) let cluster: OpaquePointer

    /// Starts `brokers` mock brokers and creates `topics` (name → partition count).
    public init(brokers: Int = 1, topics: [String: Int] = [:], logger: Logger = Logger(label: "herald.kafka-dev-broker")) throws {
        let handle = try KafkaHandle(kind: RD_KAFKA_PRODUCER, properties: ["log_level": "4"], callbacks: KafkaCallbacks(logger: logger))
        guard let cluster = rd_kafka_mock_cluster_new(handle.pointer, Int32(brokers)) else {
            rd_kafka_destroy(handle.pointer)
            throw QueueError("the kafka development broker could not start")
        }
        self.handle = handle
        self.cluster = cluster
        self.brokerCount = brokers
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        for (topic, partitions) in topics.sorted(by: { $0.key < $1.key }) {
            try createTopic(topic, partitions: partitions)
        }
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(handle.pointer)
    }

    public func createTopic(_ name: String, partitions: Int) throws {
        let error = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), 1)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw QueueError("creating topic \(name): \(KafkaHandle.describe(error))")
        }
    }

    /// Disconnects broker `id` (1...brokerCount) and refuses new connections until ``setUp(_:)``.
    public func setDown(_ id: Int32) {
        _ = rd_kafka_mock_broker_set_down(cluster, id)
    }

    public func setUp(_ id: Int32) {
        _ = rd_kafka_mock_broker_set_up(cluster, id)
    }

    /// Takes every broker down (the cluster is unreachable) or brings them all back.
    public func setAll(up: Bool) {
        for id in 1...Int32(brokerCount) { up ? setUp(id) : setDown(id) }
    }

    /// The next `count` requests of Kafka API `apiKey` (0 = Produce, 1 = Fetch, 8 = OffsetCommit)
    /// fail with `errorCode` (a Kafka error code such as 6 = NOT_LEADER_FOR_PARTITION).
    public func injectErrors(apiKey: Int16, errorCode: Int32, count: Int) {
        let errors = [rd_kafka_resp_err_t](repeating: rd_kafka_resp_err_t(errorCode), count: count)
        errors.withUnsafeBufferPointer { rd_kafka_mock_push_request_errors_array(cluster, apiKey, count, $0.baseAddress) }
    }
}
