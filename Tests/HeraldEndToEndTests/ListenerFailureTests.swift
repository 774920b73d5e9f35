import HeraldApp
import HeraldTesting
import Logging
import NIOCore
import NIOPosix
import Testing

/// A comet that cannot open one of its listeners stops with an error naming the transport. Before,
/// its registration waited for listeners that would never be up, the service group waited for the
/// registration, and the process hung — up, not registered, and saying nothing.
@Suite("a listener that cannot open stops the process")
struct ListenerFailureTests {
    @Test("a comet whose websocket port is taken stops with an error naming the transport", .timeLimit(.minutes(1)))
    func portTaken() async throws {
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        let layout = ClusterTests.Layout(redis: redis.addresses)
        let b = TestPorts.block()
        // Something else already listens on the comet's websocket port.
        let squatter = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: b + 2).get()
        defer { squatter.close(promise: nil) }

        let configuration = try HeraldConfiguration.parse(layout.comet("comet-taken", at: b))
        var logger = Logger(label: "test.comet-taken")
        logger.logLevel = .critical
        let comet = try CometRoleServer(configuration: configuration, logger: logger)
        let error = await #expect(throws: (any Error).self) { try await comet.run() }
        #expect("\(error.map { "\($0)" } ?? "")".contains("transport websocket could not start"), "\(String(describing: error))")
    }
}
