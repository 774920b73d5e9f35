public import HeraldCore

/// The `[queue.kafka]` settings, turned into librdkafka properties.
///
/// Every named key maps to a librdkafka property; `[queue.kafka.properties]` (both sides),
/// `[queue.kafka.producer_properties]` and `[queue.kafka.consumer_properties]` pass any other
/// librdkafka property through unchanged (they win over the named keys).
public struct KafkaConfiguration: Sendable {
    /// Bootstrap brokers, `host:port`.
    public var brokers: [String]
    public var topic: String
    public var group: String
    /// Start an in-process development broker (librdkafka's mock cluster) and use it instead of `brokers`.
    public var devBroker: Bool
    public var devBrokerCount: Int
    public var devBrokerPartitions: Int
    /// How long a publish may wait for the broker's acknowledgement before the API answers -500.
    public var publishTimeout: Duration
    /// How many consumed messages may wait for the job before the consumer stops fetching.
    public var maxBuffered: Int
    public var producerProperties: [String: String]
    public var consumerProperties: [String: String]

    public init(_ table: ConfigTable) throws(ConfigError) {
        brokers = try table.stringArray("brokers", default: ["127.0.0.1:9092"])
            .flatMap { $0.split(separator: ",").map { String($0).trimmingSpaces() } }
            .filter { !$0.isEmpty }
        topic = try table.string("topic", default: "goim-push-topic")
        group = try table.string("group", default: "goim-push-group-job")
        guard !topic.isEmpty else { throw ConfigError(key: table.keyPath("topic"), message: "must not be empty") }
        guard !group.isEmpty else { throw ConfigError(key: table.keyPath("group"), message: "must not be empty") }
        devBroker = try table.bool("dev_broker", default: false)
        devBrokerCount = try table.int("dev_broker_count", default: 1, in: 1...16)
        devBrokerPartitions = try table.int("dev_broker_partitions", default: 4, in: 1...1024)
        if !devBroker && brokers.isEmpty {
            throw ConfigError(key: table.keyPath("brokers"), message: "name at least one broker (or set dev_broker = true)")
        }
        publishTimeout = try table.duration("publish_timeout", default: .seconds(10))
        maxBuffered = try table.int("max_buffered", default: 4096, in: 1...1_000_000)

        let acks = try table.choice("acks", default: "all", allowed: ["all", "1", "0"])
        let compression = try table.choice("compression", default: "none", allowed: ["none", "gzip", "snappy", "lz4", "zstd"])
        let partitioner = try table.choice(
            "partitioner",
            default: "fnv1a_random",
            allowed: ["fnv1a_random", "fnv1a", "murmur2_random", "murmur2", "consistent_random", "consistent", "random"]
        )
        let linger = try table.duration("linger", default: .milliseconds(5))
        let batch = try table.int("batch_messages", default: 10000, in: 1...1_000_000)
        let idempotent = try table.bool("idempotent", default: acks == "all")
        if idempotent && acks != "all" {
            throw ConfigError(key: table.keyPath("idempotent"), message: "an idempotent producer needs acks = \"all\"")
        }
        let commitInterval = try table.duration("commit_interval", default: .seconds(1))
        let sessionTimeout = try table.duration("session_timeout", default: .seconds(10))
        let assignment = try table.string("assignment", default: "range,roundrobin")
        if assignment.contains("cooperative") {
            throw ConfigError(
                key: table.keyPath("assignment"),
                message:
                    "cooperative-sticky is broken in librdkafka 2.0.2 (commits fail, the process can abort on close); use range and/or roundrobin"
            )
        }
        let fetchWait = try table.duration("fetch_wait", default: .milliseconds(20))
        let offsetReset = try table.choice("auto_offset_reset", default: "earliest", allowed: ["earliest", "latest"])

        var common: [String: String] = [:]
        let security = try table.choice(
            "security_protocol",
            default: "plaintext",
            allowed: ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"]
        )
        common["security.protocol"] = security
        for (key, property) in Self.passThroughKeys {
            if let value = try table.string(key) { common[property] = value }
        }
        common["client.id"] = try table.string("client_id", default: "herald")

        var producer = common
        producer["acks"] = acks == "all" ? "-1" : acks
        producer["enable.idempotence"] = idempotent ? "true" : "false"
        producer["linger.ms"] = String(max(0, linger.nanoseconds / 1_000_000))
        producer["batch.num.messages"] = String(batch)
        producer["compression.codec"] = compression
        producer["partitioner"] = partitioner
        producer["message.timeout.ms"] = String(max(1, publishTimeout.nanoseconds / 1_000_000))

        var consumer = common
        consumer["group.id"] = group
        consumer["enable.auto.commit"] = "true"
        consumer["enable.auto.offset.store"] = "false"
        consumer["auto.commit.interval.ms"] = String(max(1, commitInterval.nanoseconds / 1_000_000))
        consumer["session.timeout.ms"] = String(max(1, sessionTimeout.nanoseconds / 1_000_000))
        consumer["partition.assignment.strategy"] = assignment
        consumer["auto.offset.reset"] = offsetReset
        consumer["enable.partition.eof"] = "false"
        consumer["fetch.wait.max.ms"] = String(max(0, fetchWait.nanoseconds / 1_000_000))

        let both = try Self.properties(table, "properties")
        producer.merge(both) { $1 }
        consumer.merge(both) { $1 }
        producer.merge(try Self.properties(table, "producer_properties")) { $1 }
        consumer.merge(try Self.properties(table, "consumer_properties")) { $1 }
        producerProperties = producer
        consumerProperties = consumer
    }

    /// Security settings passed to librdkafka as given (librdkafka is built with SSL and SASL).
    static let passThroughKeys: [(String, String)] = [
        ("sasl_mechanism", "sasl.mechanisms"),
        ("sasl_username", "sasl.username"),
        ("sasl_password", "sasl.password"),
        ("ssl_ca_location", "ssl.ca.location"),
        ("ssl_certificate_location", "ssl.certificate.location"),
        ("ssl_key_location", "ssl.key.location"),
        ("ssl_key_password", "ssl.key.password"),
    ]

    private static func properties(_ table: ConfigTable, _ key: String) throws(ConfigError) -> [String: String] {
        guard table.contains(key) else { return [:] }
        let sub = try table.table(key)
        var result: [String: String] = [:]
        for name in sub.keys {
            switch sub.values[name] {
            case .string(let s): result[name] = s
            case .int(let i): result[name] = String(i)
            case .bool(let b): result[name] = b ? "true" : "false"
            case .double(let d): result[name] = String(d)
            default: throw ConfigError(key: sub.keyPath(name), message: "a librdkafka property must be a string, number or boolean")
            }
        }
        return result
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
