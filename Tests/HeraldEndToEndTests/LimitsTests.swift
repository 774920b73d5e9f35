import HeraldApp
import HeraldProtocol
import HeraldTesting
import NIOCore
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
        // 0.5 pushes/s after a burst of 2: even if the 12 pushes take 10 s on a loaded machine, at
        // most 7 fit the bucket.
        try await withGateway(gatewayTOML(logic: "push_rate_limit = 0.5\npush_burst = 2")) { g in
            var accepted = 0
            var refused = 0
            for i in 0..<12 {
                let r = try await g.http.post("/goim/push/all?operation=1000", body: "\(i)")
                if r.code == 0 { accepted += 1 }
                if r.status == 429 && r.code == -429 { refused += 1 }
            }
            #expect(accepted + refused == 12)
            #expect(accepted >= 2, "the burst is honoured")
            #expect(refused >= 1, "pushes over the limit are refused")
            #expect(try await g.http.get("/goim/online/total").code == 0)
        }
    }
}

@Suite("end to end: room limit and live reload")
struct RoomLimitAndReloadTests {
    @Test("max_rooms: a connection asking for one room too many is closed at auth, or stays in its room on a change")
    func maxRooms() async throws {
        try await withGateway(gatewayTOML(comet: "max_rooms = 2")) { g in
            let a = try await g.client(.tcp, AuthToken(mid: 1, roomID: "live://1", accepts: [1000]))
            let b = try await g.client(.websocket, AuthToken(mid: 2, roomID: "live://2", accepts: [1000]))
            let c = try await g.tcp()
            #expect(try await !c.authenticate(AuthToken(mid: 3, roomID: "live://3", accepts: [1000])))
            #expect(await c.inbox.waitForClose(), "a third room is refused")
            #expect(await eventually { (g.closes["too_many_rooms"] ?? 0) == 1 }, "\(g.closes)")
            let d = try await g.client(.tcp, AuthToken(mid: 4, roomID: "live://1", accepts: [1000]))

            // a asks to move to a third room: refused, the reply names the room it is still in.
            let reply = try await a.request(.changeRoom, "live://4")
            #expect(reply?.operation == .changeRoomReply)
            #expect(reply?.text == "live://1")
            #expect(try await g.http.post("/goim/push/room?operation=1000&type=live&room=1", body: "still here").code == 0)
            #expect(await a.inbox.next()?.text == "still here")
            #expect(await d.inbox.next()?.text == "still here")
            for x in [a, b, d] { await x.close() }
        }
    }

    @Test("a reload applies limits and auth live and reports what needs a restart")
    func liveReload() async throws {
        let before = gatewayTOML()
        try await withGateway(before) { g in
            let a = try await g.client(.tcp, AuthToken(mid: 1, accepts: [1000]))
            let after = gatewayTOML(
                comet: "max_connections = 1",
                logic: "api_token = \"a-new-token\"\n[logic.auth]\nmode = \"jwt\"\njwt_secret = \"\(SecurityTests.secret)\""
            )
            let report = try await g.server.reload(HeraldConfiguration.parse(after))
            #expect(report.applied == ["comet.max_connections", "logic.auth.jwt_secret", "logic.auth.mode"], "\(report)")
            #expect(report.needsRestart == ["logic.api_token"], "\(report)")
            // max_connections = 1 applies at once: a second connection is closed.
            let over = try await g.tcp()
            #expect(await over.inbox.waitForClose())
            #expect(await eventually { (g.closes["too_many_connections"] ?? 0) == 1 }, "\(g.closes)")
            await a.close()
            // jwt applies at once: goim's plain JSON token is refused, a signed one admitted.
            #expect(try await eventually { try await !SecurityTests.auth(g, #"{"mid":5,"accepts":[1000]}"#).ok })
            #expect(try await SecurityTests.auth(g, try await SecurityTests.hs256(SecurityTests.valid(mid: 6))).ok)
            // An unusable auth setting is refused and changes nothing.
            let broken = gatewayTOML(logic: "[logic.auth]\nmode = \"jwt\"\njwt_secret = \"short\"")
            await #expect(throws: (any Error).self) { try await g.server.reload(HeraldConfiguration.parse(broken)) }
        }
    }
}
