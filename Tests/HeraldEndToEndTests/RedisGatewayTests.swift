import Foundation
import HeraldProtocol
import HeraldTesting
import Testing

@Suite("Gateway on the redis router", .serialized)
struct RedisGatewayTests {
    @Test("sessions in two Redis servers: pushes to a user reach both devices, /goim/online/users tells who is online")
    func presence() async throws {
        let redis = try RedisServers(count: 2)
        defer { redis.stopAll() }
        let list = redis.addresses.map { "\"\($0)\"" }.joined(separator: ", ")
        let toml = gatewayTOML(
            extra: """
                [router]
                plugin = "redis"
                [router.redis]
                addresses = [\(list)]
                ring = "jump"
                """)
        try await withGateway(toml) { g in
            let phone = try await g.client(.tcp, AuthToken(mid: 501, key: "phone", platform: "ios", accepts: [1000]))
            let web = try await g.client(.websocket, AuthToken(mid: 501, key: "web", platform: "web", accepts: [1000]))
            let other = try await g.client(.tcp, AuthToken(mid: 502, key: "other", accepts: [1000]))

            let reply = try await g.http.post("/goim/push/mids?operation=1000&mids=501,503", body: "to both devices")
            #expect(reply.code == 0)
            #expect(reply.data == #"{"offline_mids":[503]}"#)
            #expect(await phone.inbox.next()?.text == "to both devices")
            #expect(await web.inbox.next()?.text == "to both devices")
            #expect(await other.inbox.next(timeout: .milliseconds(200)) == nil)

            let online = try await g.http.get("/goim/online/users?mids=501,502,503")
            #expect(online.code == 0)
            #expect(
                online.data
                    == #"{"501":{"connections":2,"online":true,"platforms":["ios","web"]},"502":{"connections":1,"online":true,"platforms":[]},"503":{"connections":0,"online":false,"platforms":[]}}"#
            )

            await web.close()
            let gone = await eventually {
                (try? await g.http.get("/goim/online/users?mids=501"))?.data
                    == #"{"501":{"connections":1,"online":true,"platforms":["ios"]}}"#
            }
            #expect(gone, "the closed device left the directory")
            let bad = try await g.http.get("/goim/online/users?mids=abc")
            #expect(bad.code == -400 && bad.message.contains("mids"))
            for c in [phone, other] { await c.close() }
        }
    }
}
