import ArgumentParser
import Foundation
import HeraldQueueKafka
import Logging
import UnixSignals

/// `herald kafka-dev-broker`: librdkafka's mock cluster as a standalone process, so multi-process
/// runs and manual trials need no JVM. It is a development broker, not Kafka: nothing is stored on
/// disk and everything is gone when it stops.
struct KafkaDevBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-dev-broker",
        abstract: "Run a Kafka-protocol development broker (librdkafka's mock cluster; not Kafka) until SIGINT/SIGTERM.",
        discussion: """
            Prints one line, `BOOTSTRAP host:port[,host:port...]`, once the brokers listen; give that list to \
            [queue.kafka] brokers. Ports are chosen by the system.
            """
    )

    @Option(help: "Number of brokers.")
    var brokers: Int = 1

    @Option(help: "Topic to create (repeatable).")
    var topic: [String] = ["goim-push-topic"]

    @Option(help: "Partitions per created topic.")
    var partitions: Int = 4

    @Option(help: "Also write the bootstrap list to this file.")
    var bootstrapFile: String?

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be 1...16") }
        guard (1...1024).contains(partitions) else { throw ValidationError("--partitions must be 1...1024") }
    }

    func run() async throws {
        var logger = Logger(label: "herald.kafka-dev-broker")
        logger.logLevel = .warning
        let broker = try KafkaDevBroker(
            brokers: brokers,
            topics: Dictionary(topic.map { ($0, partitions) }, uniquingKeysWith: { a, _ in a }),
            logger: logger
        )
        if let bootstrapFile {
            try Data((broker.bootstrapServers + "\n").utf8).write(to: URL(fileURLWithPath: bootstrapFile))
        }
        let banner = """
            BOOTSTRAP \(broker.bootstrapServers)
            development broker (librdkafka mock cluster, not Kafka): \(brokers) broker(s), \
            topics \(topic.joined(separator: ",")) with \(partitions) partitions; stop with SIGINT or SIGTERM

            """
        FileHandle.standardOutput.write(Data(banner.utf8))
        for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
        withExtendedLifetime(broker) {}
    }
}
