import HeraldApp
import HeraldCore
import HeraldProtocol
import HeraldTesting
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// A running all-in-one gateway on port 0, for one test.
struct Gateway {
    let server: HeraldServer
    let tcpPort: Int
    let wsPort: Int
    let longPollPort: Int
    let ssePort: Int
    let apiPort: Int
    var http: HTTPTestClient { HTTPTestClient(host: "127.0.0.1", port: apiPort) }

    func tcp() async throws -> GoimTCPClient { try await GoimTCPClient.connect(host: "127.0.0.1", port: tcpPort) }
    func ws() async throws -> GoimWebSocketClient { try await GoimWebSocketClient.connect(host: "127.0.0.1", port: wsPort) }

    /// A connected, authenticated client of either transport.
    func longPoll() -> GoimLongPollClient { GoimLongPollClient(host: "127.0.0.1", port: longPollPort) }

    func client(_ transport: TransportKind, _ token: AuthToken) async throws -> any GoimClient {
        let c: any GoimClient
        switch transport {
        case .tcp: c = try await tcp()
        case .websocket: c = try await ws()
        case .longpoll: c = longPoll()
        case .sse: c = GoimSSEClient(host: "127.0.0.1", port: ssePort)
        }
        #expect(try await c.authenticate(token), "auth over \(transport)")
        return c
    }

    var closes: [String: Int] { server.comet.metrics.snapshot().closes }
}

enum TransportKind: String, CaseIterable, Sendable {
    case tcp, websocket, longpoll, sse

    /// The transports with a socket per connection (raw bytes, no-auth connections).
    static let sockets: [TransportKind] = [.tcp, .websocket]
}

/// The memory queue of test gateways: bounded in time far above what a loaded machine's job lags
/// (some fifty gateways share two cores when the suites run in parallel); the bound itself is
/// tested with its own setting (`MetricsEndpointTests.queueBehind`, `MemoryQueueBoundTests`).
let memoryQueue = "[queue.memory]\nmax_delay = \"60s\""

/// Builds a test configuration: loopback, port 0, fast timers; `comet`/`logic`/`job` add lines to those sections.
///
/// The handshake timeout is generous by default: when the parallel suites start, some fifty
/// gateways start at once on two cores, and one connect-and-auth there was measured at 1.1 s
/// (a test that takes 0.6 s alone takes 11 s then). With the former 2 s a clean CI run saw the
/// server close a client whose auth was still on its way. Tests of the timeout pass their own.
func gatewayTOML(
    comet: String = "",
    logic: String = "",
    job: String = "",
    extra: String = "",
    handshake: String = "10s",
    sendBuffer: Int = 0
) -> String {
    """
    [server]
    id = "test-comet"
    threads = 2
    [log]
    level = "warning"
    [comet]
    online_report_interval = "100ms"
    timer_tick = "20ms"
    handshake_timeout = "\(handshake)"
    drain_window = "0s"
    \(comet)
    [logic]
    listen = "127.0.0.1:0"
    \(logic)
    [job]
    \(job)
    [transport.tcp]
    listen = ["127.0.0.1:0"]
    sndbuf = \(sendBuffer)
    [transport.websocket]
    listen = ["127.0.0.1:0"]
    sndbuf = \(sendBuffer)
    [transport.longpoll]
    listen = "127.0.0.1:0"
    poll_timeout = "500ms"
    [transport.sse]
    listen = "127.0.0.1:0"
    keepalive = "200ms"
    \(extra.contains("[queue") ? "" : memoryQueue)
    \(extra)
    """
}

/// Runs `body` against a fresh gateway and stops it afterwards.
func withGateway(_ toml: String = gatewayTOML(), _ body: (Gateway) async throws -> Void) async throws {
    try await withGateway(try HeraldConfiguration.parse(toml), body)
}

/// Runs `body` against a fresh gateway built from `configuration` with `registry`'s plugins.
func withGateway(
    _ configuration: HeraldConfiguration, registry: PluginRegistry = BuiltInPlugins.registry(), _ body: (Gateway) async throws -> Void
) async throws {
    let server = try HeraldServer(configuration: configuration, registry: registry)
    let task = Task { try await server.run() }
    do {
        let addresses = try await server.addresses()
        let gateway = Gateway(
            server: server,
            tcpPort: addresses.transports["tcp"]!.first!.port!,
            wsPort: addresses.transports["websocket"]!.first!.port!,
            longPollPort: addresses.transports["longpoll"]!.first!.port!,
            ssePort: addresses.transports["sse"]!.first!.port!,
            apiPort: addresses.api!.port!
        )
        try await body(gateway)
    } catch {
        await server.shutdown()
        _ = try? await task.value
        throw error
    }
    await server.shutdown()
    _ = try? await task.value
}

/// A room stream (`live://<room>`) pushed through the API every 20 ms while `body` runs; then
/// checks that each of `clients` received every push the API accepted.
func withRoomStream(_ api: HTTPTestClient, room: String, clients: [any GoimClient], _ body: () async throws -> Void) async throws {
    let pushed = NIOLockedValueBox(0)
    let stop = NIOLockedValueBox(false)
    let pusher = Task {
        while !stop.withLockedValue({ $0 }) {
            let n = pushed.withLockedValue { $0 }
            if (try? await api.post("/goim/push/room?operation=1000&type=live&room=\(room)", body: "stream \(n)"))?.code == 0 {
                pushed.withLockedValue { $0 += 1 }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
    do { try await body() } catch {
        stop.withLockedValue { $0 = true }
        await pusher.value
        throw error
    }
    stop.withLockedValue { $0 = true }
    await pusher.value
    let total = pushed.withLockedValue { $0 }
    #expect(total > 10, "the room stream ran (\(total) pushes)")
    for c in clients {
        var got = Set<String>()
        while got.count < total, let p = await c.inbox.next(timeout: .seconds(5)) {
            if p.operation.rawValue == 1000 { got.insert(p.text) }
        }
        #expect(got.count == total, "a good client received \(got.count) of \(total) pushes")
    }
}

/// Waits until `condition` holds, polling; false on timeout.
func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

extension Packet {
    var text: String { String(buffer: body) }
}

/// The texts `client` receives: waits (up to `timeout` in all) until `count` have arrived, then
/// 500 ms more for strays, which the caller's exact comparison then catches. Under the parallel
/// suites' start-up load a push can take over a second, so a fixed quiet period alone would end
/// before the first one arrived.
func receiveTexts(_ client: any GoimClient, count: Int, timeout: Duration = .seconds(10)) async -> [String] {
    var received: [String] = []
    let deadline = ContinuousClock.now + timeout
    while received.count < count, ContinuousClock.now < deadline {
        if let packet = await client.inbox.next(timeout: deadline - ContinuousClock.now) { received.append(packet.text) }
    }
    while let packet = await client.inbox.next(timeout: .milliseconds(500)) { received.append(packet.text) }
    return received
}
