import Foundation
import HeraldProtocol
import HeraldQueueKafka
import HeraldTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Faults injected into a split deployment while pushes flow, with every message counted at the
/// clients: three `redis-server`s, two `herald comet`, one `herald logic` and two `herald job` in
/// one consumer group on the Kafka development broker (librdkafka's mock cluster, in this process,
/// so the test can take it down and inject produce errors). Clients on every transport (tcp,
/// websocket, long-poll, SSE) reconnect like goim's clients, to the other comet, when theirs goes away.
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

        /// `[queue]` for logic (`job: nil`) or job `i`: kafka alone, or (with a phase) the staged
        /// migration from kafka to zeromq, each job binding its own zeromq endpoint.
        func queueTOML(job: Int?, phase: String?) -> String {
            let kafka = """
                brokers = "\(brokers)"
                topic = "\(topic)"
                group = "chaos-jobs"
                commit_interval = "100ms"
                session_timeout = "6s"
                publish_timeout = "1500ms"

                """
            guard let phase else { return "[queue]\nplugin = \"kafka\"\n[queue.kafka]\n" + kafka }
            let zeromq =
                job.map { "bind = \"\(zeromqEndpoint($0))\"\n" }
                ?? "bind = \"\"\nconnect = [\"\(zeromqEndpoint(0))\", \"\(zeromqEndpoint(1))\"]\n"
            return """
                [queue]
                plugin = "migration"
                [queue.migration]
                primary = "kafka"
                secondary = "zeromq"
                phase = "\(phase)"
                twin_timeout = "5s"
                report_interval = "1s"
                [queue.migration.kafka]
                \(kafka)
                [queue.migration.zeromq]
                \(zeromq)

                """
        }

        /// History in the same redis-servers: the clients of a comet that goes away recover on the other.
        var historyTOML: String {
            """
            [history]
            enabled = true
            store = "redis"
            max_messages = 1000
            [history.redis]
            addresses = [\(redis.map { "\"\($0)\"" }.joined(separator: ", "))]

            """
        }

        func zeromqEndpoint(_ job: Int) -> String { "tcp://127.0.0.1:\(base + 60 + job)" }

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
            [transport.longpoll]
            listen = "127.0.0.1:\(cometPort(index, 4))"
            poll_timeout = "1s"
            [transport.sse]
            listen = "127.0.0.1:\(cometPort(index, 5))"
            keepalive = "1s"
            \(redisTOML)
            \(historyTOML)
            """
        }

        func logic(at b: Int, phase: String?) -> String {
            """
            [server]
            id = "logic"
            threads = 1
            [log]
            level = "warning"
            [logic]
            listen = "127.0.0.1:\(b + 11)"
            [rpc]
            listen = "127.0.0.1:\(logicRPC)"
            [registry]
            ttl = "2s"
            interval = "300ms"
            \(queueTOML(job: nil, phase: phase))
            \(redisTOML)
            \(historyTOML)
            """
        }

        func job(_ index: Int, phase: String?) -> String {
            """
            [server]
            id = "job-\(index)"
            [log]
            level = "warning"
            [registry]
            ttl = "2s"
            interval = "300ms"
            [job]
            drain_timeout = "5s"
            \(queueTOML(job: index, phase: phase))
            \(redisTOML)
            """
        }
    }

    /// A goim client that keeps one connection to one of the comets, records every push it
    /// receives, and reconnects to the other comet when its connection ends (as goim's clients do),
    /// recovering from where it was in its room's and its user's history stream.
    final class RecordingClient: @unchecked Sendable {
        let mid: Int64
        let transport: TransportKind
        private let ports: [Ports]
        private let state = NIOLockedValueBox(
            (
                received: [String: Int](), firstSeen: [String: ContinuousClock.Instant](), comet: 0, reconnects: 0, connected: false,
                positions: [String: (offset: UInt64, epoch: String)](), notRecovered: 0
            ))
        private let stopped = NIOLockedValueBox(false)
        private var task: Task<Void, Never>?

        init(mid: Int64, transport: TransportKind, comet: Int, ports: [Ports]) {
            self.mid = mid
            self.transport = transport
            self.ports = ports
            state.withLockedValue { $0.comet = comet }
        }

        var comet: Int { state.withLockedValue { $0.comet } }
        var connected: Bool { state.withLockedValue { $0.connected } }
        var reconnects: Int { state.withLockedValue { $0.reconnects } }
        var received: [String: Int] { state.withLockedValue { $0.received } }
        var firstSeen: [String: ContinuousClock.Instant] { state.withLockedValue { $0.firstSeen } }
        /// Reconnects whose auth reply said `recovered: false`.
        var notRecovered: Int { state.withLockedValue { $0.notRecovered } }

        /// op 7 with goim's fields and `"recover"`: true on the first connection, the positions after.
        private func authenticate(_ client: any GoimClient) async throws -> Bool {
            let positions = state.withLockedValue { $0.positions }
            let recover =
                positions.isEmpty
                ? "true"
                : "{"
                    + positions.sorted { $0.key < $1.key }.map {
                        #""\#($0.key)":{"offset":\#($0.value.offset),"epoch":"\#($0.value.epoch)"}"#
                    }.joined(separator: ",") + "}"
            let body = #"{"mid":\#(mid),"key":"chaos-\#(mid)","room_id":"live://chaos","accepts":[1000],"recover":\#(recover)}"#
            try await client.send(Packet(version: 1, operation: .auth, sequence: 1, body: ByteBuffer(string: body)))
            // The reply waits for the history reads (Redis) on a loaded machine: a generous bound.
            guard let reply = await client.inbox.next(timeout: .seconds(10)), reply.operation == .authReply,
                let object = try? JSONSerialization.jsonObject(with: Data(reply.body.readableBytesView)) as? [String: Any]
            else { return false }
            state.withLockedValue { s in
                if object["recovered"] as? Bool != true { s.notRecovered += 1 }
                for (name, value) in object["streams"] as? [String: [String: Any]] ?? [:] {
                    s.positions[name] = ((value["offset"] as? NSNumber)?.uint64Value ?? 0, value["epoch"] as? String ?? "")
                }
            }
            return true
        }

        /// Where a stored push puts the client: its stream (the packet's `ver`) and offset (`seq`).
        private func advance(_ p: Packet) {
            let name: String
            switch p.version {
            case 2: name = "room"
            case 3: name = "user"
            default: return
            }
            state.withLockedValue { s in s.positions[name]?.offset = UInt64(UInt32(bitPattern: p.sequence)) }
        }

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
                    let p = ports[index]
                    switch transport {
                    case .tcp: client = try await GoimTCPClient.connect(host: "127.0.0.1", port: p.tcp)
                    case .websocket: client = try await GoimWebSocketClient.connect(host: "127.0.0.1", port: p.ws)
                    case .longpoll: client = GoimLongPollClient(host: "127.0.0.1", port: p.longPoll)
                    case .sse: client = GoimSSEClient(host: "127.0.0.1", port: p.sse)
                    }
                    guard try await authenticate(client) else {
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
                        advance(p)
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

    /// One comet's client ports.
    struct Ports: Sendable {
        var tcp: Int
        var ws: Int
        var longPoll: Int
        var sse: Int
    }

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
                    let path =
                        mid.map { "/goim/push/mids?operation=1000&mids=\($0)" } ?? "/goim/push/room?operation=1000&type=live&room=chaos"
                    if let reply = try? await self.api.post(path, body: body), reply.code == 0 {
                        let offline = mid.map { Self.offlineMids(reply.data).contains($0) } ?? false
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

        /// The users a push reply lists in `offline_mids` (`{"offline_mids":[3,12]}`).
        static func offlineMids(_ data: String?) -> Set<Int64> {
            guard let data, let bytes = data.data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any],
                let mids = object["offline_mids"] as? [NSNumber]
            else { return [] }
            return Set(mids.map(\.int64Value))
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
        /// A few of the pushes missing at clients whose comet stayed up (user/body), for the failure message.
        var missingSample: [String] = []

        var description: String {
            let ms = Int(slowest.components.seconds * 1000 + slowest.components.attoseconds / 1_000_000_000_000_000)
            return
                "| \(name) | \(accepted) | \(refused) | \(expected) | \(delivered) | \(missingUnaffected) | \(missingAffected) | \(duplicates) | \(ms) |"
        }
    }

    /// The whole split deployment with its clients, and the scenarios run on it.
    final class Deployment {
        let broker: KafkaDevBroker
        let redis: RedisServers
        let layout: Layout
        let logic: HeraldChild
        var comets: [HeraldChild] = []
        var jobs: [HeraldChild] = []
        let users = (1...12).map { Int64($0) }
        var clients: [RecordingClient] = []
        var outcomes: [Outcome] = []
        private(set) var phase: String?

        init(phase: String?) async throws {
            self.phase = phase
            var brokerLogger = Logger(label: "test.kafka-broker")
            brokerLogger.logLevel = .critical
            let topic = "chaos-\(UUID().uuidString.prefix(8))"
            broker = try KafkaDevBroker(brokers: 1, topics: [topic: 4], logger: brokerLogger)
            redis = try RedisServers(count: 3)
            let layout = Layout(redis: redis.addresses, brokers: broker.bootstrapServers, topic: topic)
            self.layout = layout
            logic = try await HeraldChild(role: "logic", base: layout.base + 100, config: { layout.logic(at: $0, phase: phase) })
            comets = [try await startComet(0), try await startComet(1)]
            jobs = [try await startJob(0), try await startJob(1)]
            let ports = [0, 1].map {
                Ports(
                    tcp: layout.cometPort($0, 1), ws: layout.cometPort($0, 2), longPoll: layout.cometPort($0, 4),
                    sse: layout.cometPort($0, 5))
            }
            let kinds: [TransportKind] = [.tcp, .websocket, .longpoll, .sse]
            clients = users.map { RecordingClient(mid: $0, transport: kinds[Int($0) % 4], comet: Int($0) % 2, ports: ports) }
            for c in clients { c.start() }
        }

        func registered() async -> Set<String> {
            guard let data = (try? await logic.api.get("/goim/nodes/instances"))?.data else { return [] }
            return Set(["comet-0", "comet-1"].filter { data.contains(#""hostname":"\#($0)""#) })
        }

        func startComet(_ i: Int) async throws -> HeraldChild {
            let layout = self.layout
            return try await HeraldChild(
                role: "comet", base: layout.base + 120 + i, config: { _ in layout.comet(i) },
                ready: { _ in await self.registered().contains("comet-\(i)") })
        }

        func startJob(_ i: Int) async throws -> HeraldChild {
            let layout = self.layout, phase = self.phase
            return try await HeraldChild(
                role: "job", base: layout.base + 140 + i, config: { _ in layout.job(i, phase: phase) }, ready: { _ in true })
        }

        /// Waits until every client is connected and a room push reaches all of them (the
        /// consumer group's first assignment takes a few seconds).
        func warmUp() async -> Bool {
            guard await eventually(timeout: .seconds(20), { self.clients.allSatisfy(\.connected) }) else { return false }
            return await eventually(timeout: .seconds(40)) {
                let tag = "warm-\(UUID().uuidString.prefix(4))"
                guard (try? await self.logic.api.post("/goim/push/room?operation=1000&type=live&room=chaos", body: tag))?.code == 0 else {
                    return false
                }
                try? await Task.sleep(for: .seconds(1))
                return self.clients.allSatisfy { $0.received[tag] != nil }
            }
        }

        /// Moves logic and both jobs to `next` by rewriting their files and sending SIGHUP.
        func migrate(to next: String) throws {
            phase = next
            let layout = self.layout
            try logic.rewrite { layout.logic(at: $0, phase: next) }
            logic.signal(SIGHUP)
            for (i, job) in jobs.enumerated() {
                try job.rewrite { _ in layout.job(i, phase: next) }
                job.signal(SIGHUP)
            }
        }

        /// Runs traffic for `before`, applies `fault`, runs traffic for `after`, stops, waits for
        /// the accepted pushes, and counts them at the clients. `affected` are the comets whose
        /// clients the fault took away.
        func scenario(
            _ name: String, before: Duration = .seconds(1), after: Duration = .seconds(3), affected: Set<Int> = [],
            _ fault: () async throws -> Void
        ) async throws {
            let notRecoveredBefore = clients.reduce(0) { $0 + $1.notRecovered }
            let tag = "s\(outcomes.count)"
            let publisher = Publisher(api: logic.api, users: users)
            let cometOf = Dictionary(uniqueKeysWithValues: clients.map { ($0.mid, $0.comet) })
            publisher.start(tag: tag, perSecond: 40)
            try await Task.sleep(for: before)
            try await fault()
            try await Task.sleep(for: after)
            await publisher.stop()
            let accepted = publisher.accepted.withLockedValue { $0 }
            let clients = self.clients
            func expectedBy(_ c: RecordingClient) -> [Accepted] { accepted.filter { $0.mid == nil || $0.mid == c.mid } }
            // Wait (bounded) until every client has everything: those of a comet that went away
            // reconnect to the other and recover what they missed.
            _ = await eventually(timeout: .seconds(40)) {
                clients.allSatisfy { c in expectedBy(c).allSatisfy { c.received[$0.body] != nil } }
            }
            try await Task.sleep(for: .seconds(1))  // late copies, if any, arrive by now
            var o = Outcome(name: name, accepted: accepted.count, refused: publisher.refused.withLockedValue { $0 })
            for c in clients {
                let received = c.received
                let seen = c.firstSeen
                let expected = expectedBy(c)
                for a in expected {
                    o.expected += 1
                    guard let n = received[a.body] else {
                        if affected.contains(cometOf[c.mid]!) {
                            o.missingAffected += 1
                        } else {
                            o.missingUnaffected += 1
                            if o.missingSample.count < 12 { o.missingSample.append("\(c.mid):\(a.body)\(a.mid == nil ? "(room)" : "")") }
                        }
                        continue
                    }
                    o.delivered += 1
                    o.duplicates += n - 1
                    if let at = seen[a.body] { o.slowest = max(o.slowest, at - a.at) }
                }
                let expectedBodies = Set(expected.map(\.body))
                for (body, n) in received where body.hasPrefix("\(tag)-") && n > 1 && !expectedBodies.contains(body) {
                    o.duplicates += n - 1  // a push the API called offline, delivered twice anyway
                }
            }
            outcomes.append(o)
            #expect(o.accepted > 0, "\(name): pushes were accepted")
            #expect(
                o.missingUnaffected == 0,
                "\(name): \(o.missingUnaffected) accepted pushes never reached clients whose comet stayed up, e.g. \(o.missingSample)")
            #expect(o.duplicates == 0, "\(name): \(o.duplicates) pushes reached a client twice")
            #expect(
                o.missingAffected == 0,
                "\(name): \(o.missingAffected) accepted pushes never reached the clients of the comet that went away, though they reconnected and recovered"
            )
            let notRecovered = clients.reduce(0) { $0 + $1.notRecovered } - notRecoveredBefore
            #expect(notRecovered == 0, "\(name): \(notRecovered) reconnects were told recovered: false")
        }

        func printTable() {
            print(
                "| scenario | accepted | refused | expected deliveries | delivered | missing (comet up) | missing (comet gone) | duplicates | slowest ms |"
            )
            print("|---|---|---|---|---|---|---|---|---|")
            for o in outcomes { print(o) }
        }

        func stop() async {
            for c in clients { await c.stop() }
            for c in comets { c.stop() }
            for j in jobs { j.stop() }
            logic.stop()
            redis.stopAll()
        }
    }

    @Test(
        "job killed, broker down, produce errors, comet killed, comet drained, registry's redis restarted: nothing accepted is lost or doubled; the clients of a comet that went away reconnect to the other and recover"
    )
    func scenarios() async throws {
        let d = try await Deployment(phase: nil)
        #expect(await d.warmUp(), "pushes flow to every client before the first fault")
        do {
            try await d.scenario("steady traffic, no fault") {}
            try await d.scenario("SIGKILL a job (the other takes its partitions after the session timeout)", after: .seconds(8)) {
                d.jobs[0].signal(SIGKILL)
            }
            d.jobs[0] = try await d.startJob(0)
            try await d.scenario("broker down for 2 s, then up") {
                d.broker.setAll(up: false)
                try await Task.sleep(for: .seconds(2))
                d.broker.setAll(up: true)
            }
            try await d.scenario("produce requests fail (injected NOT_LEADER errors, retried by the producer)") {
                d.broker.injectErrors(apiKey: 0, errorCode: 6, count: 5)
            }
            try await d.scenario("SIGKILL a comet (its clients reconnect to the other)", after: .seconds(5), affected: [1]) {
                d.comets[1].signal(SIGKILL)
            }
            d.comets[1] = try await d.startComet(1)
            try await d.scenario("SIGTERM a comet (drain: op 6, clients reconnect to the other)", after: .seconds(5), affected: [0]) {
                d.comets[0].signal(SIGTERM)
            }
            #expect(d.clients.allSatisfy { $0.comet == 1 }, "the drained comet's clients, on all four transports, moved to the other")
            d.comets[0] = try await d.startComet(0)
            // The worst Redis server to lose: the one holding the comet registry. It comes back
            // empty; the comets re-register within their interval, and nobody may take them for gone.
            // (Last: the history streams that server held start a new epoch, so a client that
            // reconnected after it would rightly be told recovered: false.)
            let registryServer = d.redis.addresses.firstIndex { address in
                let port = Int(address.split(separator: ":")[1])!
                return (try? RedisServers.send(["EXISTS", "herald_comets"], port: port))?.hasPrefix(":1") ?? false
            }
            let lost = try #require(registryServer, "one redis-server holds the comet registry")
            try await d.scenario("SIGKILL the redis-server holding the comet registry, restart it empty", after: .seconds(4)) {
                d.redis.stop(lost)
                try await Task.sleep(for: .seconds(1))
                try d.redis.restart(lost)
            }
        } catch {
            await d.stop()
            throw error
        }
        d.printTable()
        await d.stop()
    }

    @Test(
        "the kafka → zeromq migration walked forward and back by SIGHUP under traffic, a job SIGKILLed in dual-read: nothing accepted is lost or doubled"
    )
    func migrationWalk() async throws {
        let d = try await Deployment(phase: "primary-only")
        #expect(await d.warmUp(), "pushes flow to every client before the walk")
        do {
            for next in ["dual-write", "dual-read"] {
                try await d.scenario("SIGHUP to \(next)") { try d.migrate(to: next) }
            }
            try await d.scenario("dual-read: SIGKILL a job, restart it", after: .seconds(8)) {
                d.jobs[0].signal(SIGKILL)
                try await Task.sleep(for: .seconds(1))
                d.jobs[0] = try await d.startJob(0)
            }
            for next in ["secondary-only", "dual-read", "dual-write", "primary-only"] {
                try await d.scenario("SIGHUP to \(next)") { try d.migrate(to: next) }
            }
        } catch {
            await d.stop()
            throw error
        }
        d.printTable()
        await d.stop()
    }
}
