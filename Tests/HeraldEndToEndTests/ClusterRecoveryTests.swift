import Foundation
import HeraldProtocol
import HeraldTesting
import NIOConcurrencyHelpers
import NIOCore
import Testing

extension ClusterTests {
    @Test(
        "history in redis: a client cut off (RST; long-poll: it stops polling) on one comet reconnects to the other after 2 s and recovers every message once, in order — tcp, websocket, long-poll"
    )
    func recoverOnAnotherComet() async throws {
        let redis = try RedisServers(count: 3)
        defer { redis.stopAll() }
        var layout = Layout(redis: redis.addresses)
        layout.sharedExtra = """
            [history]
            enabled = true
            store = "redis"
            max_messages = 2000
            [history.redis]
            addresses = [\(redis.addresses.map { "\"\($0)\"" }.joined(separator: ", "))]
            """
        let b = layout.base
        let cluster = try await Cluster(layout)
        defer { cluster.stop() }
        let logic = cluster.logic

        for (index, transport) in [TransportKind.tcp, .websocket, .longpoll].enumerated() {
            // Comet A (attempt 0): tcp at base + 1, websocket at + 2, long-poll at + 4; comet B
            // (attempt 1) at + 20 more.
            try await CutOffRecovery.run(api: logic.api, room: "moving-\(transport)", mid: 70 + Int64(index), label: "\(transport)") {
                comet in
                let base = b + 20 * comet
                switch transport {
                case .tcp: return try await GoimTCPClient.connect(host: "127.0.0.1", port: base + 1)
                case .websocket: return try await GoimWebSocketClient.connect(host: "127.0.0.1", port: base + 2)
                default: return GoimLongPollClient(host: "127.0.0.1", port: base + 4)
                }
            }
        }

        // The history API reads the same streams from logic.
        let head = try await logic.api.get("/goim/history?type=live&room=moving-tcp&limit=1")
        let headData = try #require(head.data.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        let top = try #require(headData["top"] as? Int)
        let streamEpoch = try #require(headData["epoch"] as? String)
        #expect(top >= 1000)
        let tail = try await logic.api.get("/goim/history?type=live&room=moving-tcp&since=\(top - 3)&epoch=\(streamEpoch)")
        let data = try #require(tail.data.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        let bodies = (data["messages"] as? [[String: Any]] ?? []).compactMap { ($0["body"] as? String).flatMap { Data(base64Encoded: $0) } }
        #expect(bodies.map { String(decoding: $0, as: UTF8.self) } == ["m997", "m998", "m999"])
        #expect(data["complete"] as? Bool == true)
    }
}
