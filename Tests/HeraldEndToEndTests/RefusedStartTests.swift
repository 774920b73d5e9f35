import HeraldApp
import HeraldCore
import HeraldProtocol
import HeraldTesting
import Logging
import NIOConcurrencyHelpers
import Testing

/// A start-up that is refused leaves nothing behind: what the server's initializer had already
/// built — here a queue backend that records its shutdown — is released, whichever step refused.
@Suite("a refused start releases what it built")
struct RefusedStartTests {
    /// A queue that only records whether it was shut down (it is never run: the server refuses to start).
    final class RecordingQueue: QueueBackend {
        let name = "recording"
        let guarantees = QueueGuarantees(durable: false, orderedPerKey: true, redelivers: false)
        let shutdowns = NIOLockedValueBox(0)
        func publish(_ message: PushMsg) async throws {}
        func makeConsumer() async throws -> any QueueConsumer { throw QueueError("not consumed in this test") }
        func shutdown() async { shutdowns.withLockedValue { $0 += 1 } }
    }

    static let refusals: [(String, String)] = [
        // A transport's setting out of range: refused while the transports are built, after the queue.
        ("transport", "[transport.tcp]\nlisten = [\"127.0.0.1:0\"]\nbacklog = 0"),
        // An unknown key: refused by the last step, once every plugin read its settings.
        ("unknown key", "[comet]\nhandshake_timout = \"5s\""),
    ]

    @Test("the queue is shut down once when start-up is refused", arguments: refusals)
    func queueReleased(step: String, toml: String) async throws {
        let queue = RecordingQueue()
        var registry = BuiltInPlugins.registry()
        registry.registerQueue("recording") { _ in queue }
        let configuration = try HeraldConfiguration.parse("[queue]\nplugin = \"recording\"\n[logic]\nlisten = \"127.0.0.1:0\"\n" + toml)
        #expect(throws: (any Error).self, "\(step) refused") {
            _ = try HeraldServer(configuration: configuration, registry: registry)
        }
        #expect(await eventually { queue.shutdowns.withLockedValue { $0 } == 1 }, "queue shut down after the \(step) refusal")
        try await Task.sleep(for: .milliseconds(100))
        #expect(queue.shutdowns.withLockedValue { $0 } == 1, "and only once")
    }

    @Test("herald job, refused for an unknown key, shuts its queue down once")
    func jobQueueReleased() async throws {
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        let layout = ClusterTests.Layout(redis: redis.addresses)
        let queue = RecordingQueue()
        var registry = BuiltInPlugins.registry()
        registry.registerQueue("recording") { _ in queue }
        let configuration = try HeraldConfiguration.parse(
            "[server]\nid = \"job-refused\"\n[queue]\nplugin = \"recording\"\n[job]\ncomet_in_flihgt = 4\n" + layout.redisTOML)
        #expect(throws: (any Error).self) {
            _ = try JobRoleServer(configuration: configuration, registry: registry, logger: Logger(label: "test.job-refused"))
        }
        #expect(await eventually { queue.shutdowns.withLockedValue { $0 } == 1 }, "queue shut down after the refusal")
        try await Task.sleep(for: .milliseconds(100))
        #expect(queue.shutdowns.withLockedValue { $0 } == 1, "and only once")
    }
}
