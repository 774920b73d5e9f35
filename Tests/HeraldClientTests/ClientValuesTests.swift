import Foundation
import Testing

@testable import HeraldClient

/// The client's values without I/O: backoff bounds, stream positions, endpoints, the op-7 body.
@Suite("client: values")
struct ClientValuesTests {
    @Test("backoff grows by the multiplier, is capped, and jitter only shortens it")
    func backoff() {
        let b = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(2), multiplier: 2, jitter: 0.5)
        #expect(b.delay(attempt: 0, random: 0) == .milliseconds(100))
        #expect(b.delay(attempt: 3, random: 0) == .milliseconds(800))
        #expect(b.delay(attempt: 3, random: 0.999_999) > .milliseconds(400))
        #expect(b.delay(attempt: 10, random: 0) == .seconds(2), "capped")
        #expect(b.delay(attempt: 1_000, random: 0) == .seconds(2), "no overflow")
        for attempt in 0..<20 {
            let d = b.delay(attempt: attempt)
            #expect(d <= .seconds(2) && d > .zero)
        }
        #expect(ReconnectBackoff(initial: .seconds(1), jitter: 0).delay(attempt: 0, random: 0.7) == .seconds(1))
    }

    @Test("positions come from the op-8 reply, follow stored pushes, and go back as \"recover\"")
    func positions() throws {
        var p = StreamPositions()
        #expect(p.applyAuthReply([]) == nil, "goim's empty reply")
        #expect(p.applyAuthReply(Array("not json".utf8)) == nil)
        let reply = #"{"recovered":true,"streams":{"room":{"epoch":"e1","offset":57},"user":{"epoch":"u1","offset":4294967295}}}"#
        #expect(p.applyAuthReply(Array(reply.utf8)) == true)
        #expect(p.observe(.room, sequence: 58) == 58)
        #expect(p.observe(.room, sequence: 40) == 40, "an earlier push of another lane keeps the highest")
        #expect(p.streams[.room]?.offset == 58)
        // The user stream stands at 2^32 - 1: the next push's low 32 bits wrapped to 0.
        #expect(p.observe(.user, sequence: 0) == 1 << 32)
        #expect(p.streams[.user]?.offset == 1 << 32)
        // A message from before the wrap (a replayed or late one) keeps its high bits, and does not
        // move the position.
        #expect(p.observe(.user, sequence: Int32(bitPattern: 0xFFFF_FFFD)) == (1 << 32) - 3)
        #expect(p.streams[.user]?.offset == 1 << 32)
        #expect(p.observe(.broadcast, sequence: 9) == 9, "a stream without a known epoch is not recorded")
        #expect(p.streams[.broadcast] == nil)
        let body =
            try JSONSerialization.jsonObject(with: Data(AuthBody(token: HeraldToken(mid: 7), recover: p.recoverField).bytes()))
            as? [String: Any]
        let recover = try #require(body?["recover"] as? [String: [String: Any]])
        #expect(recover["room"]?["offset"] as? Int == 58)
        #expect(recover["room"]?["epoch"] as? String == "e1")
        #expect(recover["user"]?["offset"] as? Int == 1 << 32)
        p.forgetRoom()
        #expect(p.streams[.room] == nil)
        #expect(
            String(decoding: AuthBody(token: HeraldToken(), recover: StreamPositions().recoverField).bytes(), as: UTF8.self).contains(
                #""recover":true"#))
    }

    @Test("the op-7 body is goim's token, or only the signed token in jwt mode")
    func authBody() throws {
        let identity = HeraldToken(mid: 42, key: "k", roomID: "live://1", platform: "ios", accepts: [1000, 1001])
        let plain = try JSONSerialization.jsonObject(with: Data(AuthBody(token: identity, recover: nil).bytes())) as? [String: Any]
        #expect(plain?["mid"] as? Int == 42)
        #expect(plain?["room_id"] as? String == "live://1")
        #expect(plain?["accepts"] as? [Int] == [1000, 1001])
        #expect(plain?["recover"] == nil)
        let jwt = try JSONSerialization.jsonObject(with: Data(AuthBody(token: .jwt("a.b.c"), recover: .fresh).bytes())) as? [String: Any]
        #expect(jwt?["token"] as? String == "a.b.c")
        #expect(jwt?["mid"] == nil)
        #expect(jwt?["recover"] as? Bool == true)
    }

    @Test("endpoints parse from URLs; anything else is refused")
    func endpoints() {
        #expect(HeraldEndpoint(url: "ws://127.0.0.1:3102/sub") == .websocket(host: "127.0.0.1", port: 3102))
        #expect(
            HeraldEndpoint(url: "wss://push.example.com/sub?x=1")
                == .websocket(host: "push.example.com", port: 443, path: "/sub?x=1", tls: true))
        #expect(HeraldEndpoint(url: "tcp://[::1]:3101") == .tcp(host: "::1", port: 3101))
        #expect(HeraldEndpoint(url: "tls://h:9") == .tcp(host: "h", port: 9, tls: true))
        #expect(HeraldEndpoint(url: "http://h:1") == nil)
        #expect(HeraldEndpoint(url: "ws://h:0") == nil)
        #expect(HeraldEndpoint(url: "ws://:80") == nil)
        #expect(HeraldEndpoint(url: "ws://h:x") == nil)
        #expect(HeraldEndpoint.websocket(host: "h", port: 1, tls: true).description == "wss://h:1/sub")
    }

    @Test("a configuration from /goim/nodes/weighted takes the server's nodes, heartbeat and backoff")
    func nodesWeighted() throws {
        let json = #"""
            {"code":0,"message":"","data":{"domain":"push.example.com","tcp_port":3101,"ws_port":3102,"wss_port":3103,
             "heartbeat":240,"heartbeat_max":2,"nodes":["10.0.0.1","10.0.0.2"],
             "backoff":{"max_delay":300,"base_delay":3,"factor":1.8,"jitter":0.3}}}
            """#
        let c = try HeraldClient.Configuration(nodesWeighted: Data(json.utf8), transport: .tcp)
        #expect(c.endpoints == [.tcp(host: "10.0.0.1", port: 3101), .tcp(host: "10.0.0.2", port: 3101)])
        #expect(c.heartbeatInterval == .seconds(240))
        #expect(c.backoff == ReconnectBackoff(initial: .seconds(3), maximum: .seconds(300), multiplier: 1.8, jitter: 0.3))
        let wss = try HeraldClient.Configuration(nodesWeighted: Data(json.utf8), transport: .websocket, tls: true)
        #expect(wss.endpoints.first == .websocket(host: "10.0.0.1", port: 3103, tls: true))
        #expect(throws: HeraldClientError.self) { try HeraldClient.Configuration(nodesWeighted: Data(#"{"code":-500}"#.utf8)) }
        #expect(throws: HeraldClientError.self) { try HeraldClient.Configuration(nodesWeighted: Data("[]".utf8)) }
    }
}
