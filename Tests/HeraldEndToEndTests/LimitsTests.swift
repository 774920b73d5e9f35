import HeraldProtocol
import HeraldTesting
import Testing

@Suite("end to end: connection limits")
struct LimitsTests {
    @Test("max_connections: connections over the limit are closed and counted; a freed slot is reused")
    func processLimit() async throws {
        try await withGateway(gatewayTOML(comet: "max_connections = 2")) { g in
            let a = try await g.client(.tcp, AuthToken(mid: 1, accepts: [1000]))
            let b = try await g.tcp()
            let over = try await g.tcp()
            #expect(await over.inbox.waitForClose(), "the third connection is closed")
            #expect(await eventually { (g.closes["too_many_connections"] ?? 0) == 1 }, "\(g.closes)")
            #expect(try await a.heartbeat() != nil, "admitted connections are unaffected")
            await b.close()
            let again = try await eventually {
                let c = try await g.tcp()
                defer { Task { await c.close() } }
                return try await c.authenticate(AuthToken(mid: 3, accepts: [1000]))
            }
            #expect(again, "the slot of a closed connection is reused")
            await a.close()
        }
    }

    @Test("max_connections_per_ip: one address cannot take more than its share")
    func perIPLimit() async throws {
        try await withGateway(gatewayTOML(comet: "max_connections_per_ip = 2")) { g in
            let a = try await g.client(.tcp, AuthToken(mid: 1, accepts: [1000]))
            let b = try await g.client(.websocket, AuthToken(mid: 2, accepts: [1000]))
            let over = try await g.tcp()
            #expect(await over.inbox.waitForClose())
            #expect(await eventually { (g.closes["too_many_connections_from_ip"] ?? 0) == 1 }, "\(g.closes)")
            #expect(try await b.heartbeat() != nil)
            for c in [a, b] { await c.close() }
        }
    }

    @Test("push_rate_limit: pushes over the bucket get HTTP 429 and -429; queries are not limited")
    func pushRate() async throws {
        try await withGateway(gatewayTOML(logic: "push_rate_limit = 5\npush_burst = 5")) { g in
            var accepted = 0
            var refused = 0
            for i in 0..<12 {
                let r = try await g.http.post("/goim/push/all?operation=1000", body: "\(i)")
                if r.code == 0 { accepted += 1 }
                if r.status == 429 && r.code == -429 { refused += 1 }
            }
            #expect(accepted + refused == 12)
            #expect(accepted >= 5, "the burst is honoured")
            #expect(refused >= 1, "pushes over the limit are refused")
            #expect(try await g.http.get("/goim/online/total").code == 0)
        }
    }
}
