import Foundation
import HeraldProtocol
import HeraldQueueKafka
import HeraldTesting
import Logging
import NIOConcurrencyHelpers
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Faults injected into a split deployment while pushes flow, with every message counted at the
/// clients: three `redis-server`s, two `herald comet`, one `herald logic` and two `herald job` in
/// one consumer group on the Kafka development broker (librdkafka's mock cluster, in this process,
/// so the test can take it down and inject produce errors). Clients on tcp and websocket reconnect
/// like goim's clients, to the other comet, when theirs goes away.
///
/// For clients whose comet stayed up every scenario must end with 0 missing and 0 duplicates among
/// the accepted pushes. Clients of a comet that was killed or drained miss what was published
/// while they were away (no history yet): that is reported, not asserted; duplicates are 0 for all.
/// `scripts/chaos.sh` runs this suite and prints its table (docs/reliability.md).
@Suite("fault injection: split deployment on kafka", .serialized)
struct FaultInjectionTests {
    struct Layout {
        let base = TestPorts.block(200)
        let redis: [String]
        let brokers: String
        let topic: String
        var logicRPC: Int { base + 49 }
        func cometPort(_ index: Int, _ offset: Int) -> Int { base + index * 20 + offset }

        var redisTOML: String {
            """
            [router]
            plugin = "redis"
            [router.redis]
            addresses = [\(redis.map { "\"\($0)\"" }.joined(separator: ", "))]
            ring = "ketama"

            """
        }

        var kafkaTOML: String {
            """
            [queue]
            plugin = "kafka"
            [queue.kafka]
            brokers = "\(brokers)"
            topic = "\(topic)"
            group = "chaos-jobs"
            commit_interval = "100ms"
            session_timeout = "6s"
            publish_timeout = "1500ms"

            """
        }

        func comet(_ index: Int) -> String {
            """
            [server]
            id = "comet-\(index)"
            threads = 1
            [log]
            level = "warning"
            [comet]
            drain_window = "500ms"
            public_addresses = ["127.0.0.1"]
            [rpc]
            listen = "127.0.0.1:\(cometPort(index, 9))"
            logic = ["127.0.0.1:\(logicRPC)"]
            [registry]
            ttl = "2s"
            interval = "300ms"
            [transport.tcp]
            listen = ["127.0.0.1:\(cometPort(index, 1))"]
            [transport.websocket]
            listen = ["127.0.0.1:\(cometPort(index, 2))"]
            \(redisTOML)
            """
        }

        func logic(at b: Int) -> String {
            """
            [server]
            id = "logic"
            threads = 1
            [log]
            level = "error"
            [logic]
            listen = "127.0.0.1:\(b + 11)"
            [rpc]
            listen = "127.0.0.1:\(logicRPC)"
            [registry]
            interval = "300ms"
            \(kafkaTOML)
            \(redisTOML)
            """
        }

        func job(_ index: Int) -> String {
            """
            [server]
            id = "job-\(index)"
            [log]
            level = "error"
            [registry]
            interval = "300ms"
            [job]
            drain_timeout = "5s"
            \(kafkaTOML)
            \(redisTOML)
            """
        }
    }

    /// A goim client that keeps one connection to one of the comets, records every push it
    /// receives, and reconnects to the other comet when its connection ends (as goim's clients do).
    final class RecordingClient: @unchecked Sendable {
        let mid: Int64
        let websocket: Bool
        private let ports: [(tcp: Int, ws: Int)]
        private let state = NIOLockedValueBox((received: [String: Int](), firstSeen: [String: ContinuousClock.Instant](), comet: 0, reconnects: 0, connected: false))
        private let stopped = NIOLockedValueBox(false)
        private var task: Task<Void, Never>?

        init(mid: Int64, websocket: Bool, comet: Int, ports: [(tcp: Int, ws: Int)]) {
            self.mid = mid
            self.websocket = websocket
            self.ports = ports
            state.withLockedValue { $0.comet = comet }
        }

        var comet: Int { state.withLockedValue { $0.comet } }
        var connected: Bool { state.withLockedValue { $0.connected } }
        var reconnects: Int { state.withLockedValue { $0.reconnects } }
        var received: [String: Int] { state.withLockedValue { $0.received } }
        var firstSeen: [String: ContinuousClock.Instant] { state.withLockedValue { $0.firstSeen } }

        func start() {
            task = Task { await self.loop() }
        }

        func stop() async {
            stopped.withLockedValue { $0 = true }
            await task?.value
        }

        private func loop() async {
            while !stopped.withLockedValue({ $0 }) {
                let index = comet
                let client: any GoimClient
                do {
                    client = websocket
                        ? try await GoimWebSocketClient.connect(host: "127.0.0.1", port: ports[index].ws)
                        : try await GoimTCPClient.connect(host: "127.0.0.1", port: ports[index].tcp)
                    guard try await client.authenticate(AuthToken(mid: mid, key: "chaos-\(mid)", roomID: "live://chaos", accepts: [1000]), timeout: .seconds(3)) else {
                        await client.close()
                        throw NotAdmitted()
                    }
                } catch {
                    state.withLockedValue { $0.comet = 1 - index }  // try the other comet
                    try? await Task.sleep(for: .milliseconds(200))
                    continue
                }
                state.withLockedValue { $0.connected = true }
                var lastBeat = ContinuousClock.now
                while !stopped.withLockedValue({ $0 }) {
                    if let p = await client.inbox.next(timeout: .milliseconds(200)) {
                        guard p.operation.rawValue == 1000 else { continue }
                        let body = String(buffer: p.body)
                        let now = ContinuousClock.now
                        state.withLockedValue { s in
                            s.received[body, default: 0] += 1
                            if s.firstSeen[body] == nil { s.firstSeen[body] = now }
                        }
                    } else if client.inbox.isClosed {
                        break
                    }
                    if ContinuousClock.now - lastBeat > .seconds(5) {
                        try? await client.send(Packet(version: 1, operation: .heartbeat, sequence: 2))
                        lastBeat = ContinuousClock.now
                    }
                }
                await client.close()
                guard !stopped.withLockedValue({ $0 }) else { break }
                state.withLockedValue { s in
                    s.connected = false
                    s.reconnects += 1
                    s.comet = 1 - index
                }
            }
        }
    }

    struct NotAdmitted: Error {}

    /// One accepted push: which clients must receive it.
    struct Accepted {
        var body: String
        var at: ContinuousClock.Instant
        /// nil: the room (every client); otherwise the user.
        var mid: Int64?
    }

    /// Pushes at a fixed rate, alternating a room push and a push to one user, and records what
    /// the API accepted (code 0; a user the API reported offline is not expected to receive it).
    final class Publisher: @unchecked Sendable {
        let api: HTTPTestClient
        let users: [Int64]
        let accepted = NIOLockedValueBox<[Accepted]>([])
        let refused = NIOLockedValueBox(0)
        private let stopped = NIOLockedValueBox(false)
        private var task: Task<Void, Never>?

        init(api: HTTPTestClient, users: [Int64]) {
            self.api = api
            self.users = users
        }

        func start(tag: String, perSecond: Int) {
            task = Task {
                let start = ContinuousClock.now
                var n = 0
                while !self.stopped.withLockedValue({ $0 }) {
                    let body = "\(tag)-\(n)"
                    let mid: Int64? = n % 2 == 0 ? nil : self.users[(n / 2) % self.users.count]
                    let path = mid.map { "/goim/push/mids?operation=1000&mids=\($0)" } ?? "/goim/push/room?operation=1000&type=live&room=chaos"
                    if let reply = try? await self.api.post(path, body: body), reply.code == 0 {
                        let offline = mid != nil && (reply.data?.contains("\(mid!)") ?? false)
                        if !offline { self.accepted.withLockedValue { $0.append(Accepted(body: body, at: ContinuousClock.now, mid: mid)) } }
                    } else {
                        self.refused.withLockedValue { $0 += 1 }
                    }
                    n += 1
                    try? await Task.sleep(until: start + .milliseconds(1000 * n / perSecond))
                }
            }
        }

        func stop() async {
            stopped.withLockedValue { $0 = true }
            await task?.value
        }
    }

    /// What one scenario did to the pushes it accepted.
    struct Outcome: CustomStringConvertible {
        var name: String
        var accepted = 0
        var refused = 0
        var expected = 0
        var delivered = 0
        var missingUnaffected = 0
        var missingAffected = 0
        var duplicates = 0
        var slowest: Duration = .zero

        var description: String {
            let ms = Int(slowest.components.seconds * 1000 + slowest.components.attoseconds / 1_000_000_000_000_000)
            return "| \(name) | \(accepted) | \(refused) | \(expected) | \(delivered) | \(missingUnaffected) | \(missingAffected) | \(duplicates) | \(ms) |"
        }
    }

    @Test("job killed, broker down, produce errors, comet killed, comet drained: nothing accepted is lost or doubled for clients whose comet stayed up")
    func scenarios() async throws {
        var brokerLogger = Logger(label: "test.kafka-broker")
        brokerLogger.logLevel = .critical
        let topic = "chaos-\(UUID().uuidString.prefix(8))"
        let broker = try KafkaDevBroker(brokers: 1, topics: [topic: 4], logger: brokerLogger)
        let redis = try RedisServers(count: 3)
        defer { redis.stopAll() }
        let layout = Layout(redis: redis.addresses, brokers: broker.bootstrapServers, topic: topic)
        let b = layout.base

        let logic = try await HeraldChild(role: "logic", base: b + 100, config: { layout.logic(at: $0) })
        defer { logic.stop() }
        func registered() async -> Set<String> {
            guard let data = (try? await logic.api.get("/goim/nodes/instances"))?.data else { return [] }
            return Set(["comet-0", "comet-1"].filter { data.contains(#""hostname":"\#($0)""#) })
        }
        func startComet(_ i: Int) async throws -> HeraldChild {
            try await HeraldChild(role: "comet", base: b + 120 + i, config: { _ in layout.comet(i) }, ready: { _ in await registered().contains("comet-\(i)") })
        }
        func startJob(_ i: Int) async throws -> HeraldChild {
            try await HeraldChild(role: "job", base: b + 140 + i, config: { _ in layout.job(i) }, ready: { _ in true })
        }
        var comets = [try await startComet(0), try await startComet(1)]
        var jobs = [try await startJob(0), try await startJob(1)]
        defer {
            for c in comets { c.stop() }
            for j in jobs { j.stop() }
        }

        let ports = [0, 1].map { (tcp: layout.cometPort($0, 1), ws: layout.cometPort($0, 2)) }
        let users = (1...12).map { Int64($0) }
        let clients = users.map { RecordingClient(mid: $0, websocket: $0 % 2 == 0, comet: Int($0) % 2, ports: ports) }
        for c in clients { c.start() }
        defer { Task { for c in clients { await c.stop() } } }
        #expect(await eventually(timeout: .seconds(20)) { clients.allSatisfy(\.connected) }, "every client connected")

        // The consumer group's first assignment takes a few seconds: warm up until a room push arrives everywhere.
        let warm = await eventually(timeout: .seconds(40)) {
            let tag = "warm-\(UUID().uuidString.prefix(4))"
            guard (try? await logic.api.post("/goim/push/room?operation=1000&type=live&room=chaos", body: tag))?.code == 0 else { return false }
            try? await Task.sleep(for: .seconds(1))
            return clients.allSatisfy { $0.received[tag] != nil }
        }
        #expect(warm, "pushes flow to every client before the first fault")

        var outcomes: [Outcome] = []
        /// Runs traffic for `before`, applies `fault`, runs traffic for `after`, stops, waits for
        /// the accepted pushes, and counts them at the clients. `affected` are the comets whose
        /// clients the fault took away.
        func scenario(_ name: String, before: Duration = .seconds(1), after: Duration = .seconds(3), affected: Set<Int> = [], _ fault: () async throws -> Void) async throws {
            let tag = "s\(outcomes.count)"
            let publisher = Publisher(api: logic.api, users: users)
            let cometOf = Dictionary(uniqueKeysWithValues: clients.map { ($0.mid, $0.comet) })
            publisher.start(tag: tag, perSecond: 40)
            try await Task.sleep(for: before)
            try await fault()
            try await Task.sleep(for: after)
            await publisher.stop()
            let accepted = publisher.accepted.withLockedValue { $0 }
            func expectedBy(_ c: RecordingClient) -> [Accepted] { accepted.filter { $0.mid == nil || $0.mid == c.mid } }
            // Wait (bounded) until every client whose comet stayed up has everything.
            _ = await eventually(timeout: .seconds(40)) {
                clients.allSatisfy { c in affected.contains(cometOf[c.mid]!) || expectedBy(c).allSatisfy { c.received[$0.body] != nil } }
            }
            try await Task.sleep(for: .seconds(1))  // late copies, if any, arrive by now
            var o = Outcome(name: name, accepted: accepted.count, refused: publisher.refused.withLockedValue { $0 })
            for c in clients {
                let received = c.received
                let seen = c.firstSeen
                for a in expectedBy(c) {
                    o.expected += 1
                    guard let n = received[a.body] else {
                        if affected.contains(cometOf[c.mid]!) { o.missingAffected += 1 } else { o.missingUnaffected += 1 }
                        continue
                    }
                    o.delivered += 1
                    o.duplicates += n - 1
                    if let at = seen[a.body] { o.slowest = max(o.slowest, at - a.at) }
                }
                for (body, n) in received where body.hasPrefix("\(tag)-") && n > 1 && !expectedBy(c).contains(where: { $0.body == body }) {
                    o.duplicates += n - 1  // a push the API called offline, delivered twice anyway
                }
            }
            outcomes.append(o)
            #expect(o.accepted > 0, "\(name): pushes were accepted")
            #expect(o.missingUnaffected == 0, "\(name): \(o.missingUnaffected) accepted pushes never reached clients whose comet stayed up")
            #expect(o.duplicates == 0, "\(name): \(o.duplicates) pushes reached a client twice")
        }

        try await scenario("steady traffic, no fault") {}
        try await scenario("SIGKILL a job (the other takes its partitions after the session timeout)", after: .seconds(8)) {
            jobs[0].signal(SIGKILL)
        }
        jobs[0] = try await startJob(0)
        try await scenario("broker down for 2 s, then up") {
            broker.setAll(up: false)
            try await Task.sleep(for: .seconds(2))
            broker.setAll(up: true)
        }
        try await scenario("produce requests fail (injected NOT_LEADER errors, retried by the producer)") {
            broker.injectErrors(apiKey: 0, errorCode: 6, count: 5)
        }
        try await scenario("SIGKILL a comet (its clients reconnect to the other)", after: .seconds(5), affected: [1]) {
            comets[1].signal(SIGKILL)
        }
        comets[1] = try await startComet(1)
        try await scenario("SIGTERM a comet (drain: op 6, clients reconnect to the other)", after: .seconds(5), affected: [0]) {
            comets[0].signal(SIGTERM)
        }
        #expect(clients.allSatisfy { $0.comet == 1 }, "the drained comet's clients moved to the other")

        print("| scenario | accepted | refused | expected deliveries | delivered | missing (comet up) | missing (comet gone) | duplicates | slowest ms |")
        print("|---|---|---|---|---|---|---|---|---|")
        for o in outcomes { print(o) }
        for c in clients { await c.stop() }
        withExtendedLifetime(broker) {}
    }
}
