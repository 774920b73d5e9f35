import Foundation
import HeraldApp
import HeraldCore
import HeraldProtocol
import HeraldQueueKafka
import HeraldQueueZeroMQ
import HeraldTesting
import Logging
import Testing

@Suite("Gateway on the zeromq backend", .serialized)
struct ZeroMQGatewayTests {
    static func quietLogger() -> Logger {
        var logger = Logger(label: "test.zeromq")
        logger.logLevel = .error
        return logger
    }

    @Test("2,000 pushes to 20 users arrive exactly once through the in-process zeromq queue")
    func pushes() async throws {
        let toml = gatewayTOML(
            extra: """
                [queue]
                plugin = "zeromq"
                [queue.zeromq]
                bind = "tcp://127.0.0.1:*"
                """)
        try await withGateway(toml) { g in
            var clients: [(Int64, any GoimClient)] = []
            for i in 0..<20 {
                let mid = Int64(100 + i)
                clients.append(
                    (mid, try await g.client(i % 2 == 0 ? .tcp : .websocket, AuthToken(mid: mid, key: "z-\(mid)", accepts: [1000]))))
            }
            let mids = clients.map(\.0)
            let jobs = (0..<100).flatMap { n in mids.map { (mid: $0, n: n) } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        for i in stride(from: worker, to: jobs.count, by: 16) {
                            let reply = try await g.http.post(
                                "/goim/push/mids?operation=1000&mids=\(jobs[i].mid)", body: "\(jobs[i].mid):\(jobs[i].n)")
                            #expect(reply.code == 0, "\(reply.message)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            for (mid, c) in clients {
                var got: [String] = []
                while got.count < 100, let p = await c.inbox.next(timeout: .seconds(10)) { got.append(String(buffer: p.body)) }
                #expect(await c.inbox.next(timeout: .milliseconds(50)) == nil, "no duplicate for \(mid)")
                #expect(Set(got) == Set((0..<100).map { "\(mid):\($0)" }), "user \(mid): \(got.count) of 100")
                // One publisher, one key: pushes for a user arrive in the order the API accepted them.
                await c.close()
            }
        }
    }

    @Test("across processes: this process publishes, a herald serve child consumes and delivers")
    func acrossProcesses() async throws {
        let child = try await HeraldChild { base in
            HeraldChild.baseTOML(base) + """
                [queue]
                plugin = "zeromq"
                [queue.zeromq]
                bind = "tcp://127.0.0.1:\(base + 90)"
                """
        }
        defer { child.stop() }
        let base = child.base
        let endpoint = "tcp://127.0.0.1:\(base + 90)"
        let client = try await GoimTCPClient.connect(host: "127.0.0.1", port: base + 1)
        #expect(try await client.authenticate(AuthToken(mid: 1, key: "x", roomID: "live://zmq", accepts: [1000])))

        // A logic-only publisher in this process: no bind, connects to the child's job endpoint.
        let publisher = try ZeroMQQueue(
            configuration: ZeroMQConfiguration(ConfigLoader.parse("bind = \"\"\nconnect = [\"\(endpoint)\"]")),
            logger: Self.quietLogger()
        )
        for i in 0..<500 {
            var m = PushMsg()
            m.type = .room
            m.operation = 1000
            m.room = "live://zmq"
            m.msg = Data("room \(i)".utf8)
            try await publisher.publish(m)
        }
        var got: [String] = []
        while got.count < 500, let p = await client.inbox.next(timeout: .seconds(10)) { got.append(String(buffer: p.body)) }
        #expect(got == (0..<500).map { "room \($0)" })
        await client.close()
        await publisher.shutdown()
    }
}

@Suite("Queue backend per message class")
struct QueueClassRoutingTests {
    @Test("pushes go through kafka, room messages and broadcasts through zeromq, as configured")
    func routing() async throws {
        let toml = gatewayTOML(
            extra: """
                [queue]
                plugin = "kafka"
                push = "kafka"
                room = "zeromq"
                broadcast = "zeromq"
                [queue.kafka]
                dev_broker = true
                [queue.zeromq]
                bind = "tcp://127.0.0.1:*"
                """)
        try await withGateway(toml) { g in
            let routed = try #require(g.server.queue as? ClassRoutedQueue)
            let kafka = try #require(routed.backends["kafka"] as? KafkaQueue)
            let zeromq = try #require(routed.backends["zeromq"] as? ZeroMQQueue)
            let c = try await g.client(.tcp, AuthToken(mid: 5, key: "routed", roomID: "live://routed", accepts: [1000]))
            for i in 0..<10 { #expect(try await g.http.post("/goim/push/keys?operation=1000&keys=routed", body: "key \(i)").code == 0) }
            for i in 0..<5 {
                #expect(try await g.http.post("/goim/push/room?operation=1000&type=live&room=routed", body: "room \(i)").code == 0)
            }
            for i in 0..<3 { #expect(try await g.http.post("/goim/push/all?operation=1000", body: "all \(i)").code == 0) }
            #expect(kafka.publishedCount == 10)
            #expect(zeromq.publishedCount == 8)
            var got = Set<String>()
            while got.count < 18, let p = await c.inbox.next(timeout: .seconds(15)) { got.insert(String(buffer: p.body)) }
            let want = Set((0..<10).map { "key \($0)" } + (0..<5).map { "room \($0)" } + (0..<3).map { "all \($0)" })
            #expect(got == want)
            await c.close()
        }
    }
}
