import Foundation
import HeraldCore
import HeraldQueueKafka
import HeraldQueueMemory
import HeraldQueueZeroMQ
import HeraldTesting
import Logging
import Testing

/// One development broker (librdkafka's mock cluster, a real Kafka-protocol broker on loopback)
/// shared by the kafka cases; each case gets its own topic and consumer group.
enum SharedDevBroker {
    static let broker: KafkaDevBroker = {
        var logger = Logger(label: "test.kafka-dev-broker")
        logger.logLevel = .warning
        return try! KafkaDevBroker(brokers: 3, logger: logger)
    }()

    static func queue(partitions: Int = 4, extra: String = "") throws -> KafkaQueue {
        let tag = UUID().uuidString.prefix(8)
        let topic = "conformance-\(tag)"
        try broker.createTopic(topic, partitions: partitions)
        let table = try ConfigLoader.parse(
            """
            brokers = "\(broker.bootstrapServers)"
            topic = "\(topic)"
            group = "group-\(tag)"
            commit_interval = "200ms"
            session_timeout = "6s"
            \(extra)
            """
        )
        var logger = Logger(label: "test.kafka")
        logger.logLevel = .warning
        return try KafkaQueue(configuration: KafkaConfiguration(table), logger: logger)
    }
}

@Suite("Queue conformance")
struct QueueConformanceTests {
    @Test("memory", arguments: QueueConformance.caseNames(redelivers: MemoryQueue().guarantees.redelivers))
    func memory(_ name: String) async throws {
        let run = try #require(QueueConformance.cases.first { $0.name == name }).run
        let problems = try await run { MemoryQueue(capacity: 10_000) }
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test("kafka (development broker)", arguments: QueueConformance.caseNames(redelivers: true))
    func kafka(_ name: String) async throws {
        let run = try #require(QueueConformance.cases.first { $0.name == name }).run
        let problems = try await run { try SharedDevBroker.queue() }
        #expect(problems.isEmpty, "\(problems)")
    }
}

extension QueueConformanceTests {
    /// Over tcp:// on loopback (a port chosen by the system): the same sockets and wire as between processes.
    @Test("zeromq (tcp)", arguments: QueueConformance.caseNames(redelivers: false))
    func zeromq(_ name: String) async throws {
        let run = try #require(QueueConformance.cases.first { $0.name == name }).run
        let problems = try await run {
            var logger = Logger(label: "test.zeromq")
            logger.logLevel = .warning
            return try ZeroMQQueue(configuration: ZeroMQConfiguration(ConfigLoader.parse(#"bind = "tcp://127.0.0.1:*""#)), logger: logger)
        }
        #expect(problems.isEmpty, "\(problems)")
    }
}
