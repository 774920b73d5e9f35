import Foundation
import HeraldApp
import HeraldCore
import HeraldProtocol
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
        let toml = gatewayTOML(extra: """
            [queue]
            plugin = "zeromq"
            [queue.zeromq]
            bind = "tcp://127.0.0.1:*"
            """)
        try await withGateway(toml) { g in
            var clients: [(Int64, any GoimClient)] = []
            for i in 0..<20 {
                let mid = Int64(100 + i)
                clients.append((mid, try await g.client(i % 2 == 0 ? .tcp : .websocket, AuthToken(mid: mid, key: "z-\(mid)", accepts: [1000]))))
            }
            let mids = clients.map(\.0)
            let jobs = (0..<100).flatMap { n in mids.map { (mid: $0, n: n) } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        for i in stride(from: worker, to: jobs.count, by: 16) {
                            let reply = try await g.http.post("/goim/push/mids?operation=1000&mids=\(jobs[i].mid)", body: "\(jobs[i].mid):\(jobs[i].n)")
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
        let binary = MetricsEndpointTests.root.appendingPathComponent(".build/debug/herald").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the executable first")
        let base = Int.random(in: 20_000...40_000)
        let endpoint = "tcp://127.0.0.1:\(base + 90)"
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("herald-zmq-\(base).toml")
        try """
            [server]
            id = "child"
            [log]
            level = "error"
            [logic]
            listen = "127.0.0.1:\(base + 11)"
            [transport.tcp]
            listen = "127.0.0.1:\(base + 1)"
            [queue]
            plugin = "zeromq"
            [queue.zeromq]
            bind = "\(endpoint)"
            """.write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: binary)
        child.arguments = ["serve", "--config", config.path]
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        defer {
            child.terminate()
            child.waitUntilExit()
        }
        let api = HTTPTestClient(host: "127.0.0.1", port: base + 11)
        try #require(await eventually { (try? await api.get("/goim/online/total"))?.code == 0 }, "the child started")
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
