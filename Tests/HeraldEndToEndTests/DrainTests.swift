import HeraldProtocol
import HeraldQueueMemory
import HeraldTesting
import NIOConcurrencyHelpers
import Testing

@Suite("end to end: graceful drain")
struct DrainTests {
    @Test("shutdown delivers every push accepted before it, tells each client op 6, and spreads the closes over the window")
    func drain() async throws {
        let toml = gatewayTOML().replacingOccurrences(of: "drain_window = \"0s\"", with: "drain_window = \"1s\"")
        try await withGateway(toml) { g in
            var connected: [any GoimClient] = []
            for i in 0..<20 {
                connected.append(
                    try await g.client(.tcp, AuthToken(mid: Int64(i + 1), key: "drain-\(i)", roomID: "live://drain", accepts: [1000])))
            }
            let clients = connected
            for n in 0..<200 {
                #expect(try await g.http.post("/goim/push/room?operation=1000&type=live&room=drain", body: "room \(n)").code == 0)
            }
            for i in 0..<20 {
                #expect(try await g.http.post("/goim/push/keys?operation=1000&keys=drain-\(i)", body: "key \(i)").code == 0)
            }
            // Shut down right after the last push was accepted.
            let shutdown = Task { await g.server.shutdown() }

            let closedOrder = NIOLockedValueBox<[Int]>([])
            let openWhenFirstClosed = NIOLockedValueBox<Int?>(nil)
            await withTaskGroup(of: (Int, Set<String>, Bool).self) { group in
                for (i, c) in clients.enumerated() {
                    group.addTask {
                        var got = Set<String>()
                        var sawDisconnect = false
                        while let p = await c.inbox.next(timeout: .seconds(10)) {
                            if p.operation == .disconnectReply {
                                sawDisconnect = true
                            } else if p.operation.rawValue == 1000 {
                                got.insert(String(buffer: p.body))
                            }
                        }
                        closedOrder.withLockedValue { order in
                            if order.isEmpty { openWhenFirstClosed.withLockedValue { $0 = clients.filter { !$0.inbox.isClosed }.count } }
                            order.append(i)
                        }
                        return (i, got, sawDisconnect)
                    }
                }
                for await (i, got, sawDisconnect) in group {
                    #expect(got == Set((0..<200).map { "room \($0)" } + ["key \(i)"]), "client \(i) got \(got.count) of 201")
                    #expect(sawDisconnect, "client \(i) was told op 6 before the close")
                }
            }
            await shutdown.value
            #expect(closedOrder.withLockedValue { $0.count } == 20)
            #expect(
                (openWhenFirstClosed.withLockedValue { $0 } ?? 0) > 5,
                "closes are spread: most clients were still open when the first closed")
            #expect(await eventually { (g.closes["server_shutdown"] ?? 0) == 20 }, "\(g.closes)")
        }
    }

    @Test("shutdown with long-poll and SSE sessions: each gets every push accepted before it, then op 6")
    func drainHTTPTransports() async throws {
        let toml = gatewayTOML().replacingOccurrences(of: "drain_window = \"0s\"", with: "drain_window = \"500ms\"")
        try await withGateway(toml) { g in
            var connected: [(String, any GoimClient)] = []
            for i in 0..<4 {
                let c: any GoimClient = i % 2 == 0 ? g.longPoll() : GoimSSEClient(host: "127.0.0.1", port: g.ssePort)
                let admitted = try await c.authenticate(
                    AuthToken(mid: Int64(100 + i), key: "http-drain-\(i)", roomID: "live://http-drain", accepts: [1000]))
                #expect(admitted)
                connected.append((i % 2 == 0 ? "long-poll" : "sse", c))
            }
            for n in 0..<50 {
                let reply = try await g.http.post("/goim/push/room?operation=1000&type=live&room=http-drain", body: "room \(n)")
                #expect(reply.code == 0)
            }
            let shutdown = Task { await g.server.shutdown() }
            let clients = connected
            await withTaskGroup(of: Void.self) { group in
                for (kind, c) in clients {
                    group.addTask {
                        var got: [String] = []
                        var sawDisconnect = false
                        while let p = await c.inbox.next(timeout: .seconds(10)) {
                            if p.operation == .disconnectReply {
                                sawDisconnect = true
                            } else if p.operation.rawValue == 1000 {
                                got.append(p.text)
                            }
                        }
                        #expect(got == (0..<50).map { "room \($0)" }, "\(kind) got \(got.count) of 50 in order")
                        #expect(sawDisconnect, "\(kind) was told op 6 before its session ended")
                    }
                }
            }
            await shutdown.value
        }
    }

    @Test("a paced broadcast (speed > 0) is acknowledged to the queue only once it reached every connection")
    func pacedBroadcastAcknowledgedWhenFinished() async throws {
        try await withGateway(gatewayTOML()) { g in
            let queue = try #require(g.server.queue as? MemoryQueue)
            var clients: [any GoimClient] = []
            for i in 0..<30 {
                clients.append(try await g.client(.tcp, AuthToken(mid: Int64(200 + i), key: "paced-\(i)", accepts: [1000])))
            }
            let before = queue.counts.acknowledged
            // 20 connections a second over 2 event loops: one connection per loop every 100 ms, so
            // the 30 connections take about 1.5 s.
            let reply = try await g.http.post("/goim/push/all?operation=1000&speed=20", body: "paced")
            #expect(reply.code == 0)
            var ackedWhenFirstArrived: Int?
            var arrived = 0
            for c in clients {
                let p = await c.inbox.next(timeout: .seconds(20))
                #expect(p?.text == "paced")
                arrived += 1
                if arrived == 1 { ackedWhenFirstArrived = queue.counts.acknowledged - before }
            }
            #expect(arrived == 30)
            #expect(ackedWhenFirstArrived == 0, "not acknowledged while connections were still waiting for it")
            #expect(
                await eventually(timeout: .seconds(10)) { queue.counts.acknowledged - before == 1 },
                "acknowledged once every connection had it")
            for c in clients { await c.close() }
        }
    }
}
