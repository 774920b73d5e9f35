import Foundation
import HeraldProtocol
import HeraldTesting
import NIOConcurrencyHelpers
import NIOCore
import Testing

extension ClusterTests {
    @Test("history in redis: a client cut off (RST; long-poll: it stops polling) on one comet reconnects to the other after 2 s and recovers every message once, in order — tcp, websocket, long-poll")
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
        let logic = try await HeraldChild(role: "logic", base: b + 30, config: { layout.logic(at: $0) })
        defer { logic.stop() }
        let job = try await HeraldChild(role: "job", base: b + 50, config: { _ in layout.job }, ready: { _ in true })
        defer { job.stop() }
        let cometA = try await HeraldChild(role: "comet", base: b, config: { layout.comet("comet-a", at: $0) }, ready: { _ in
            await Self.registered(logic).contains("comet-a")
        })
        defer { cometA.stop() }
        let cometB = try await HeraldChild(role: "comet", base: b + 20, config: { layout.comet("comet-b", at: $0) }, ready: { _ in
            await Self.registered(logic).contains("comet-b")
        })
        defer { cometB.stop() }

        for (index, transport) in [TransportKind.tcp, .websocket, .longpoll].enumerated() {
            let room = "moving-\(transport)"
            // Comet A: tcp at base + 1, websocket at + 2, long-poll at + 4; comet B at + 20 more.
            func connect(_ comet: Int) async throws -> any GoimClient {
                let base = b + 20 * comet
                switch transport {
                case .tcp: return try await GoimTCPClient.connect(host: "127.0.0.1", port: base + 1)
                case .websocket: return try await GoimWebSocketClient.connect(host: "127.0.0.1", port: base + 2)
                default: return GoimLongPollClient(host: "127.0.0.1", port: base + 4)
                }
            }
            let first = try await connect(0)
            let hello = try #require(try await recoverAuth(first, mid: 70 + Int64(index), room: "live://\(room)", recover: "true"))
            let epoch = try #require(hello.streams["room"]?.epoch)
            // Until the job knows comet A, a push may wait for it: the stream starts once one arrived.
            var ready = false
            for _ in 0..<40 where !ready {
                _ = try await logic.api.post("/goim/push/room?operation=1001&type=live&room=\(room)", body: "warm")
                ready = await first.inbox.next(timeout: .milliseconds(250)) != nil
            }
            #expect(ready, "a room push reached comet A")
            while await first.inbox.next(timeout: .milliseconds(200)) != nil {}

            let total = 1000
            let api = logic.api
            let accepted = NIOLockedValueBox(0)
            let publisher = Task {
                let clock = ContinuousClock()
                let start = clock.now
                for i in 0..<total {
                    try? await clock.sleep(until: start + .milliseconds(4 * i))
                    if (try? await api.post("/goim/push/room?operation=1000&type=live&room=\(room)", body: "m\(i)"))?.code == 0 {
                        accepted.withLockedValue { $0 += 1 }
                    }
                }
            }
            var seen: [String] = []
            var lastOffset: UInt64 = 0
            while seen.count < 200, let p = await first.inbox.next(timeout: .seconds(10)) {
                guard p.operation.rawValue == 1000 else { continue }
                lastOffset = UInt64(UInt32(bitPattern: p.sequence))
                seen.append(p.text)
            }
            #expect(seen.count == 200)
            await first.reset()
            try await Task.sleep(for: .seconds(2))

            let second = try await connect(1)
            let back = try #require(try await recoverAuth(second, mid: 70 + Int64(index), room: "live://\(room)", recover: #"{"room":{"offset":\#(lastOffset),"epoch":"\#(epoch)"}}"#))
            #expect(back.recovered, "\(transport): recovered on comet B")
            await publisher.value
            #expect(accepted.withLockedValue { $0 } == total)
            var rest: [String] = []
            let deadline = ContinuousClock.now + .seconds(30)
            while seen.count + rest.count < total, ContinuousClock.now < deadline {
                guard let p = await second.inbox.next(timeout: deadline - ContinuousClock.now) else { break }
                if p.operation.rawValue == 1000 { rest.append(p.text) }
            }
            while let p = await second.inbox.next(timeout: .milliseconds(500)) {
                if p.operation.rawValue == 1000 { rest.append(p.text) }
            }
            let tally = StreamTally(received: seen + rest, expected: (0..<total).map { "m\($0)" })
            #expect(tally.missing == 0 && tally.duplicates == 0 && tally.inOrder, "\(transport): \(tally)")
            await second.close()
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
