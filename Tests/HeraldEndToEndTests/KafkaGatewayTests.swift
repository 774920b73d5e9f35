import Foundation
import HeraldApp
import HeraldComet
import HeraldCore
import HeraldJob
import HeraldProtocol
import HeraldQueueKafka
import HeraldTesting
import Logging
import NIOConcurrencyHelpers
import Testing

/// The all-in-one gateway on the kafka backend, against librdkafka's mock cluster (a real
/// Kafka-protocol broker on loopback, started by each test).
@Suite("Gateway on the kafka backend", .serialized)
struct KafkaGatewayTests {
    struct Setup {
        let broker: KafkaDevBroker
        let topic: String
        let toml: String
    }

    static func setup(partitions: Int = 4, jobEnabled: Bool, publishTimeout: String = "10s") throws -> Setup {
        let tag = UUID().uuidString.prefix(8)
        let topic = "push-\(tag)"
        let broker = try KafkaDevBroker(brokers: 1, topics: [topic: partitions], logger: quietLogger("test.kafka-broker"))
        let toml = gatewayTOML(
            job: "enabled = \(jobEnabled)",
            extra: """
                [queue]
                plugin = "kafka"
                [queue.kafka]
                brokers = "\(broker.bootstrapServers)"
                topic = "\(topic)"
                group = "job-\(tag)"
                commit_interval = "100ms"
                session_timeout = "6s"
                publish_timeout = "\(publishTimeout)"
                """
        )
        return Setup(broker: broker, topic: topic, toml: toml)
    }

    static func quietLogger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .error
        return logger
    }

    /// Starts a job role on the gateway's queue (a new member of the consumer group).
    static func startJob(_ g: Gateway) -> Task<Void, any Error> {
        let job = Job(
            configuration: JobConfiguration(),
            queue: g.server.queue,
            comets: LocalCometDirectory(g.server.comet),
            logger: quietLogger("test.job")
        )
        return Task { try await job.run() }
    }

    /// Stops a job as its process would on SIGTERM: stop consuming, commit what finished, leave the group.
    static func stopJob(_ task: Task<Void, any Error>) async {
        task.cancel()
        _ = try? await task.value
    }

    @Test("10,000 pushes to 100 users arrive exactly once through two rebalances and a job restart")
    func pushesSurviveJobRestarts() async throws {
        let s = try Self.setup(jobEnabled: false)
        try await withGateway(s.toml) { g in
            var clients: [(mid: Int64, client: any GoimClient)] = []
            for i in 0..<100 {
                let mid = Int64(i + 1)
                let c = try await g.client(
                    i % 2 == 0 ? .tcp : .websocket, AuthToken(mid: mid, key: "kafka-\(mid)", roomID: "live://kafka", accepts: [1000]))
                clients.append((mid, c))
            }
            let perUser = 100
            let mids = clients.map(\.mid)
            let sequence = (0..<perUser).flatMap { n in mids.map { (mid: $0, n: n) } }
            let start = ContinuousClock.now
            func push(_ range: Range<Int>) async throws {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<24 {
                        group.addTask {
                            for i in stride(from: range.lowerBound + worker, to: range.upperBound, by: 24) {
                                let (mid, n) = sequence[i]
                                let reply = try await g.http.post("/goim/push/mids?operation=1000&mids=\(mid)", body: "\(mid):\(n)")
                                #expect(reply.code == 0, "push \(mid):\(n) answered \(reply.code) \(reply.message)")
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let jobA = Self.startJob(g)
            try await push(0..<3000)
            let jobB = Self.startJob(g)  // forced rebalance: the group splits the partitions
            try await push(3000..<6000)
            await Self.stopJob(jobA)  // rebalance: B takes every partition
            try await push(6000..<8000)
            await Self.stopJob(jobB)  // no job at all while pushes are accepted
            try await push(8000..<9000)
            let jobC = Self.startJob(g)  // restart: resumes from the committed offsets
            try await push(9000..<10_000)
            let accepted = ContinuousClock.now - start

            var missing = 0
            var duplicates = 0
            for (mid, c) in clients {
                var seen = Set<String>()
                var total = 0
                let deadline = ContinuousClock.now + .seconds(60)
                while seen.count < perUser, ContinuousClock.now < deadline {
                    guard let p = await c.inbox.next(timeout: .seconds(1)) else { continue }
                    guard p.operation.rawValue == 1000 else { continue }
                    seen.insert(String(buffer: p.body))
                    total += 1
                }
                // Anything already queued behind the last distinct message is a duplicate too.
                while c.inbox.pending > 0, let p = await c.inbox.next(timeout: .zero) {
                    if p.operation.rawValue == 1000 { total += 1 }
                }
                missing += perUser - seen.count
                duplicates += total - seen.count
                #expect(seen == Set((0..<perUser).map { "\(mid):\($0)" }), "user \(mid) got \(seen.count) of \(perUser)")
            }
            await Self.stopJob(jobC)
            #expect(missing == 0)
            // The group redelivers what was consumed but not committed at each rebalance; the comet
            // drops those copies by their identity.
            #expect(duplicates == 0, "\(duplicates) pushes reached a client twice")
            let seconds = Double(accepted.components.seconds) + Double(accepted.components.attoseconds) / 1e18
            print(
                "kafka gateway: 10000 pushes accepted in \(String(format: "%.2f", seconds)) s (\(Int(10_000 / seconds))/s through 24 HTTP workers), missing \(missing), duplicates \(duplicates) after 2 rebalances and a job restart; the comet dropped \(g.server.comet.deduplicator.counts.duplicates) redelivered copies"
            )
            for (_, c) in clients { await c.close() }
        }
    }

    @Test("a PushMsg produced by kcat (goim's format, encoded by protoc) reaches the right connections")
    func foreignProducer() async throws {
        let s = try Self.setup(jobEnabled: true)
        try await withGateway(s.toml) { g in
            let a = try await g.client(.tcp, AuthToken(mid: 1, key: "kcat-a", roomID: "live://kcat", accepts: [1000]))
            let b = try await g.client(.websocket, AuthToken(mid: 2, key: "kcat-b", roomID: "live://kcat", accepts: [1000]))
            let c = try await g.client(.tcp, AuthToken(mid: 3, key: "kcat-c", roomID: "live://elsewhere", accepts: [1000]))
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-kcat-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let messages = [
                ("key", "kcat-a", #"type: PUSH operation: 1000 server: "test-comet" keys: "kcat-a" msg: "from kcat to a key""#),
                ("room", "live://kcat", #"type: ROOM operation: 1000 room: "live://kcat" msg: "from kcat to a room""#),
            ]
            for (name, key, text) in messages {
                let file = dir.appendingPathComponent("\(name).bin")
                try run(
                    "protoc", ["--encode=goim.logic.PushMsg", "-I", Self.protoRoot, "goim/logic/push.proto"], stdin: Data(text.utf8),
                    stdout: file)
                try run("kcat", ["-P", "-b", s.broker.bootstrapServers, "-t", s.topic, "-k", key, file.path])
            }
            func bodies(_ client: any GoimClient, _ count: Int) async -> [String] {
                var got: [String] = []
                while got.count < count, let p = await client.inbox.next(timeout: .seconds(20)) {
                    if p.operation.rawValue == 1000 { got.append(String(buffer: p.body)) }
                }
                return got
            }
            #expect(Set(await bodies(a, 2)) == ["from kcat to a key", "from kcat to a room"])
            #expect(await bodies(b, 1) == ["from kcat to a room"])
            #expect(await c.inbox.next(timeout: .milliseconds(500)) == nil)
            for x in [a, b, c] { await x.close() }
        }
    }

    @Test("broker down at start and while running: pushes answer -500 in bounded time, none accepted is lost")
    func brokerOutages() async throws {
        let s = try Self.setup(jobEnabled: true, publishTimeout: "1500ms")
        s.broker.setAll(up: false)
        try await withGateway(s.toml) { g in
            let c = try await g.client(.tcp, AuthToken(mid: 7, key: "outage", roomID: "live://outage", accepts: [1000]))
            var accepted: [String] = []
            func push(_ body: String) async throws -> Bool {
                let start = ContinuousClock.now
                let reply = try await g.http.post("/goim/push/keys?operation=1000&keys=outage", body: body)
                let waited = ContinuousClock.now - start
                // Not a speed check: only a hang (no answer long after publish_timeout) fails here.
                #expect(waited < .seconds(30), "the push API answered after \(waited)")
                if reply.code == 0 {
                    accepted.append(body)
                } else {
                    #expect(reply.code == -500)
                    #expect(reply.message.contains("kafka"), "\(reply.message)")
                }
                return reply.code == 0
            }
            // Down at start: the gateway runs, and a push fails cleanly instead of hanging.
            #expect(try await push("during startup outage") == false)
            s.broker.setAll(up: true)
            #expect(await eventually(timeout: .seconds(20)) { (try? await push("after recovery \(accepted.count)")) == true })
            for i in 0..<20 { #expect(try await push("before \(i)")) }
            // Produce requests failing with a retriable error are retried by the idempotent producer.
            s.broker.injectErrors(apiKey: 0, errorCode: 6, count: 3)
            for i in 0..<20 { #expect(try await push("retried \(i)")) }
            s.broker.setAll(up: false)
            _ = try await push("while down")
            s.broker.setAll(up: true)
            #expect(await eventually(timeout: .seconds(20)) { (try? await push("after second recovery \(accepted.count)")) == true })
            for i in 0..<20 { #expect(try await push("after \(i)")) }

            var received = Set<String>()
            let deadline = ContinuousClock.now + .seconds(30)
            while !Set(accepted).isSubset(of: received), ContinuousClock.now < deadline {
                if let p = await c.inbox.next(timeout: .seconds(1)), p.operation.rawValue == 1000 {
                    received.insert(String(buffer: p.body))
                }
            }
            let lost = Set(accepted).subtracting(received)
            #expect(lost.isEmpty, "accepted but never delivered: \(lost.sorted())")
            await c.close()
        }
    }

    // MARK: Helpers

    static let protoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("proto").path
    }()

    /// Runs a program found on PATH; throws when it exits non-zero.
    func run(_ tool: String, _ arguments: [String], stdin: Data? = nil, stdout: URL? = nil) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + arguments
        let input = Pipe()
        if stdin != nil { p.standardInput = input }
        let output = Pipe()
        p.standardOutput = output
        try p.run()
        if let stdin {
            input.fileHandleForWriting.write(stdin)
            try input.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw QueueError("\(tool) exited with \(p.terminationStatus)") }
        if let stdout { try data.write(to: stdout) }
    }
}
