import HeraldProtocol
import HeraldTesting
import NIOCore
import Testing

@Suite("end to end: long-poll transport", .serialized)
struct LongPollTests {
    @Test("1,000 pushes to a user polling with random pauses arrive complete, in order, without duplicates")
    func randomPauses() async throws {
        try await withGateway { gw in
            let c = gw.longPoll()
            #expect(try await c.authenticate(AuthToken(mid: 4242, accepts: [1000])))
            let pusher = Task {
                for i in 0..<1000 {
                    let r = try await gw.http.post("/goim/push/mids?operation=1000&mids=4242", body: "m\(i)")
                    #expect(r.code == 0)
                }
            }
            var generator = SystemRandomNumberGenerator()
            let pauser = Task {
                for _ in 0..<12 {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 20...150, using: &generator)))
                    try await c.pauseReading()
                    // Some pauses are longer than a poll (500 ms in the test config).
                    try await Task.sleep(for: .milliseconds(Int.random(in: 50...700, using: &generator)))
                    try await c.resumeReading()
                }
            }
            try await pusher.value
            try await pauser.value
            var got: [String] = []
            while got.count < 1000, let p = await c.inbox.next(timeout: .seconds(10)) { got.append(p.text) }
            #expect(got == (0..<1000).map { "m\($0)" })
            let seqs = c.receivedSequences
            #expect(seqs == Array(1...UInt64(seqs.count)), "sequence numbers have no gaps or repeats")
            #expect(await c.inbox.next(timeout: .milliseconds(300)) == nil, "no duplicates after the last")
            await c.close()
        }
    }

    @Test("a session that stops polling is closed after the heartbeat timeout")
    func stopsPolling() async throws {
        try await withGateway(gatewayTOML(logic: "heartbeat = \"1s\"\nheartbeat_max = 1")) { gw in
            let c = gw.longPoll()
            #expect(try await c.authenticate(AuthToken(mid: 1, accepts: [1000])))
            try await c.pauseReading()
            #expect(await eventually(timeout: .seconds(5)) { gw.closes["heartbeat_timeout"] == 1 })
            try await c.resumeReading()
            #expect(await c.inbox.waitForClose(), "the next poll learns the session is gone")
        }
    }

    @Test("messages queued for a session that does not poll stay bounded (drop policy, counted)")
    func boundedQueue() async throws {
        try await withGateway(gatewayTOML(comet: "outbound_buffer_bytes = 16384")) { gw in
            let c = gw.longPoll()
            #expect(try await c.authenticate(AuthToken(mid: 1, roomID: "r://1")))
            try await c.pauseReading()
            let body = String(repeating: "z", count: 1000)
            for _ in 0..<40 { _ = try await gw.http.post("/goim/push/room?operation=1000&type=r&room=1", body: body) }
            #expect(await eventually { gw.server.comet.metrics.snapshot().dropped > 0 })
            try await c.resumeReading()
            var n = 0
            while await c.inbox.next(timeout: .milliseconds(800)) != nil { n += 1 }
            #expect(n > 0 && n < 40, "kept what fit under the bound (\(n) of 40)")
            await c.close()
        }
    }

    @Test("client ops go by POST and answer directly; a bad token is refused")
    func opsAndAuth() async throws {
        try await withGateway { gw in
            let bad = gw.longPoll()
            try await bad.send(Packet(operation: .auth, body: ByteBuffer(string: "{nope")))
            #expect(await bad.inbox.waitForClose())
            #expect(await eventually { gw.closes["auth_failed"] == 1 })

            let c = gw.longPoll()
            #expect(try await c.authenticate(AuthToken(mid: 2, roomID: "live://1", accepts: [])))
            #expect(try await c.heartbeat() == 1)
            #expect(try await c.request(.changeRoom, "live://2")?.text == "live://2")
            #expect(try await c.request(.sub, "1000")?.operation == .subReply)
            _ = try await gw.http.post("/goim/push/all?operation=1000", body: "é ✓")
            #expect(await c.inbox.next()?.text == "é ✓")
            await c.close()
        }
    }
}
