import HeraldProtocol
import HeraldTesting
import Testing

/// Runs the transport conformance suite (HeraldTesting.TransportConformance) against every
/// built-in transport over real sockets.
@Suite("transport conformance", .serialized)
struct TransportConformanceTests {
    struct Target: ConformanceTarget {
        let gateway: Gateway
        let transport: TransportKind

        func makeClient() async throws -> any GoimClient {
            switch transport {
            case .tcp: try await gateway.tcp()
            case .websocket: try await gateway.ws()
            case .longpoll: gateway.longPoll()
            case .sse: GoimSSEClient(host: "127.0.0.1", port: gateway.ssePort)
            }
        }

        var api: HTTPTestClient { gateway.http }
        func closeCount(_ reason: String) -> Int { gateway.closes[reason] ?? 0 }
        func droppedCount() -> Int { gateway.server.comet.metrics.snapshot().dropped }
        func connectionCount() -> Int { gateway.server.comet.connectionCount }
    }

    @Test("every transport passes the conformance suite", arguments: TransportKind.allCases)
    func conformance(transport: TransportKind) async throws {
        let toml = gatewayTOML(comet: "outbound_buffer_bytes = 65536\nslow_consumer = \"drop\"", sendBuffer: 4096)
        try await withGateway(toml) { gw in
            let target = Target(gateway: gw, transport: transport)
            for (i, c) in TransportConformance.cases.enumerated() {
                let problems = try await c.run(target, "\(transport.rawValue)\(i)")
                #expect(problems.isEmpty, "\(transport): \(c.name): \(problems.joined(separator: "; "))")
            }
        }
    }
}
