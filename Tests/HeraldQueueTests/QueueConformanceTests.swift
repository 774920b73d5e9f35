import Foundation
import HeraldApp
import HeraldCore
import HeraldQueueKafka
import HeraldQueueMemory
import HeraldQueueMigration
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

extension QueueConformanceTests {
    /// The migration queue over two memory backends in each phase that consumes one backend.
    /// dual-read consumes both and hands on both copies of every message by design (the comets
    /// drop the second by its identity); MigrationTests and the end-to-end migration test cover it.
    @Test(
        "migration (memory → memory) in primary-only, dual-write and secondary-only",
        arguments: ["primary-only", "dual-write", "secondary-only"].flatMap { phase in
            QueueConformance.caseNames(redelivers: false).map { (phase, $0) }
        }
    )
    func migration(_ phase: String, _ name: String) async throws {
        let run = try #require(QueueConformance.cases.first { $0.name == name }).run
        let problems = try await run {
            var logger = Logger(label: "test.migration")
            logger.logLevel = .warning
            let table = try ConfigLoader.parse(
                "primary = \"memory\"\nsecondary = \"memory-b\"\nphase = \"\(phase)\"\nreport_interval = \"1h\"")
            return MigrationQueue(
                configuration: try MigrationConfiguration(table),
                primary: MemoryQueue(name: "memory", capacity: 10_000),
                secondary: MemoryQueue(name: "memory-b", capacity: 10_000),
                logger: logger
            )
        }
        #expect(problems.isEmpty, "\(phase): \(problems)")
    }

    /// Pushes on one memory backend, room messages on another, broadcasts on the first: consumed as one.
    @Test("class-routed (push and broadcast on memory, room on memory-b)", arguments: QueueConformance.caseNames(redelivers: false))
    func classRouted(_ name: String) async throws {
        let run = try #require(QueueConformance.cases.first { $0.name == name }).run
        let problems = try await run {
            try ClassRoutedQueue(
                push: "memory", room: "memory-b", broadcast: "memory",
                backends: [
                    "memory": MemoryQueue(name: "memory", capacity: 10_000), "memory-b": MemoryQueue(name: "memory-b", capacity: 10_000),
                ]
            )
        }
        #expect(problems.isEmpty, "\(problems)")
    }
}
