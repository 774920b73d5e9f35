import Foundation
import HeraldProtocol
import HeraldTesting
import NIOCore
import Testing

/// Runs the real `herald` executable (which bootstraps the Prometheus backend) and reads `/metrics`.
@Suite("end to end: the herald executable's /metrics", .serialized)
struct MetricsEndpointTests {
    @Test("/metrics exposes connections, auths, pushes by kind, deliveries, latency, room batch sizes and close reasons")
    func metrics() async throws {
        let child = try await HeraldChild { HeraldChild.baseTOML($0) }
        defer { child.stop() }
        let api = child.api
        let base = child.base

        let good = try await GoimTCPClient.connect(host: "127.0.0.1", port: base + 1)
        #expect(try await good.authenticate(AuthToken(mid: 1, key: "m", accepts: [1000])))
        _ = try await api.post("/goim/push/keys?operation=1000&keys=m", body: "x")
        #expect(await good.inbox.next() != nil)
        _ = try await api.post("/goim/push/room?operation=1000&type=live&room=m", body: "y")
        let bad = try await GoimTCPClient.connect(host: "127.0.0.1", port: base + 1)
        var bytes = ByteBuffer()
        bytes.writeMultipleIntegers(Int32(20), Int16(20), Int16(1), Int32(2), Int32(0))
        try await bad.sendRaw(bytes)
        #expect(await bad.inbox.waitForClose())

        var text = ""
        let seen = await eventually {
            let r = try? await HTTP1Client.request(host: "127.0.0.1", port: base + 11, method: .GET, path: "/metrics")
            text = r.map { String(buffer: $0.body) } ?? ""
            return text.contains(#"herald_connections_closed_total{reason="bad_header_length"} 1"#)
        }
        #expect(seen, "close reason counted in /metrics")
        #expect(text.contains(#"herald_auth_total{result="ok"} 1"#))
        #expect(text.contains("herald_push_delivered_total 1"))
        #expect(text.contains("herald_connections 1"))
        #expect(text.contains(#"herald_pushes_total{kind="push"} 1"#))
        #expect(text.contains(#"herald_pushes_total{kind="room"} 1"#))
        #expect(text.contains(#"herald_publish_to_deliver_seconds_bucket{le="5.0"} 2"#), "publish-to-deliver latency of both messages")
        #expect(text.contains(#"herald_room_batch_bytes_count 1"#), "room batch sizes")
        await good.close()
    }
}
