import Foundation
public import HeraldClient
import NIOConcurrencyHelpers

/// The client restart bench: N `HeraldClient` instances in this process on one `herald serve`
/// (history in Redis), all in room `bench://restart` and opted into recovery; messages pushed to
/// the room at a fixed rate; after `restartAfter` of them the server is killed (SIGKILL) and
/// started again on the same configuration. The figures say how long each client took to come back
/// once the server was up — its first attempt after that is bounded by its backoff's maximum — and
/// whether every message reached every client exactly once, in order. Bounded in count and time;
/// loopback only.
public struct ClientRestartRunner: Sendable {
    public struct Options: Sendable {
        /// The `herald` executable and the configuration `herald serve` runs on.
        public var binary: String
        public var config: String
        public var endpoint: HeraldEndpoint
        public var apiHost = "127.0.0.1"
        public var apiPort = 3111
        public var clients = 1000
        public var messages = 60
        /// Messages per second.
        public var rate = 20.0
        /// The kill comes after this many messages were accepted.
        public var restartAfter = 20
        public var backoff = ReconnectBackoff(initial: .milliseconds(200), maximum: .seconds(2))
        /// How long the server stays down before it is started again.
        public var downFor: Duration = .seconds(3)
        /// How long to wait for every message once the last was pushed.
        public var drainTimeout: Duration = .seconds(60)

        public init(binary: String, config: String, endpoint: HeraldEndpoint) {
            self.binary = binary
            self.config = config
            self.endpoint = endpoint
        }
    }

    public let options: Options

    public init(options: Options) throws {
        guard options.clients > 0, options.messages > 1 else { throw BenchError("--clients and --messages must be positive") }
        guard options.restartAfter > 0, options.restartAfter < options.messages else {
            throw BenchError("--restart-after must be between 1 and --messages - 1")
        }
        guard options.rate > 0 else { throw BenchError("--rate must be positive") }
        for host in [options.endpoint.host, options.apiHost] where !LoadRunner.isLoopback(host) {
            throw BenchError("\(host) is not a loopback address; the load tool only targets loopback")
        }
        self.options = options
    }

    /// One client's record: what arrived, and when its connection states changed.
    final class Track: Sendable {
        let client: HeraldClient
        let received = NIOLockedValueBox<[Int]>([])
        let states = NIOLockedValueBox<[(ContinuousClock.Instant, HeraldClientState)]>([])
        private let readers: [Task<Void, Never>]

        init(_ client: HeraldClient) {
            self.client = client
            let received = self.received
            let states = self.states
            readers = [
                Task {
                    for await m in client.messages {
                        guard m.text.hasPrefix("m"), let n = Int(m.text.dropFirst()) else { continue }
                        received.withLockedValue { $0.append(n) }
                    }
                },
                Task { for await s in client.states { states.withLockedValue { $0.append((.now, s)) } } },
            ]
        }

        func close() async {
            await client.close()
            for r in readers { await r.value }
        }
    }

    public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> ClientRestartReport {
        let o = options
        let push = PushClient(host: o.apiHost, port: o.apiPort, connections: 1)
        var server = try ServerChild(binary: o.binary, config: o.config)
        defer { server.kill() }
        guard await push.ready(within: .seconds(30)) else { throw BenchError("herald serve did not answer on \(o.apiHost):\(o.apiPort)") }

        let configuration = HeraldClient.Configuration(endpoints: [o.endpoint], backoff: o.backoff, recovers: true)
        let tracks = (0..<o.clients).map { _ in Track(HeraldClient(configuration: configuration)) }
        progress("connecting \(o.clients) clients to \(o.endpoint)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, track) in tracks.enumerated() {
                if i >= 200 { try await group.next() }
                group.addTask {
                    try await track.client.connect(token: HeraldToken(mid: Int64(i + 1), roomID: "bench://restart", accepts: [1000]))
                }
            }
            try await group.waitForAll()
        }

        let start = ContinuousClock.now
        let interval = Duration.nanoseconds(Int64(1e9 / o.rate))
        var killedAt: ContinuousClock.Instant?
        var upAt: ContinuousClock.Instant?
        for i in 0..<o.messages {
            try await Task.sleep(until: start + interval * i, clock: .continuous)
            if i == o.restartAfter {
                // No push is in flight: the previous one was answered, so none can be stored twice.
                progress("killing herald serve (pid \(server.pid)) after \(i) messages; starting it again")
                killedAt = .now
                server.kill()
                try await Task.sleep(for: o.downFor)
                server = try ServerChild(binary: o.binary, config: o.config)
                guard await push.ready(within: .seconds(30)) else { throw BenchError("herald serve did not come back within 30 s") }
                upAt = .now
            }
            // Accepted exactly once: a push is retried only when the server answered that it did not
            // take it (a failed request throws: it may have been taken).
            let deadline = ContinuousClock.now + .seconds(30)
            while try await !push.pushRoom(operation: 1000, type: "bench", room: "restart", body: "m\(i)") {
                guard ContinuousClock.now < deadline else { throw BenchError("message \(i) not accepted within 30 s") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        progress("all \(o.messages) pushed; waiting for every client to have them")
        let drainDeadline = ContinuousClock.now + o.drainTimeout
        while ContinuousClock.now < drainDeadline, tracks.contains(where: { Set($0.received.withLockedValue { $0 }).count < o.messages }) {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(500))
        let report = ClientRestartReport(
            options: o, tracks: tracks, killedAt: killedAt ?? start, upAt: upAt ?? start,
            attempts: await tracks.asyncMap { await $0.client.connectionAttempts })
        await withTaskGroup(of: Void.self) { group in
            for t in tracks { group.addTask { await t.close() } }
        }
        await push.shutdown()
        return report
    }
}

/// `herald serve` as a child process of the bench, its output discarded.
struct ServerChild {
    private let process = Process()
    var pid: Int32 { process.processIdentifier }

    init(binary: String, config: String) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--config", config]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        out.reserveCapacity(count)
        for e in self { out.append(try await transform(e)) }
        return out
    }
}

/// What the client restart bench saw.
public struct ClientRestartReport: Sendable {
    public var clients: Int
    public var messages: Int
    /// SIGKILL to the restarted server's API answering.
    public var restartSeconds: Double
    /// Per client: from the server being up to the start of the attempt that brought it back, and
    /// to being connected again.
    public var firstAttemptAfterUp: [Double]
    public var reconnected: [Double]
    /// Clients that did not connect again.
    public var notReconnected: Int
    /// Clients whose recovery reply said recovered: true / false.
    public var recovered: Int
    public var notRecovered: Int
    public var missing: Int
    public var duplicates: Int
    public var outOfOrder: Int
    public var attempts: Int
    public var backoffMaximum: Double

    /// Every client back, recovered, and every message once each in order at every client.
    public var clean: Bool { notReconnected == 0 && notRecovered == 0 && missing == 0 && duplicates == 0 && outOfOrder == 0 }
    /// The longest wait between attempts any client announced (`.waiting(retryIn:)`), printed
    /// beside the backoff's maximum (which caps it by construction). The times after the server
    /// was up are measured and printed, not judged: they include this process's own scheduling.
    public var longestWait: Double

    init(
        options o: ClientRestartRunner.Options, tracks: [ClientRestartRunner.Track], killedAt: ContinuousClock.Instant,
        upAt: ContinuousClock.Instant, attempts: [Int]
    ) {
        clients = o.clients
        messages = o.messages
        restartSeconds = (upAt - killedAt).seconds
        backoffMaximum = (o.backoff.maximum).seconds
        self.attempts = attempts.reduce(0, +)
        var first: [Double] = []
        var back: [Double] = []
        var missing = 0
        var duplicates = 0
        var outOfOrder = 0
        var recovered = 0
        var notRecovered = 0
        var notReconnected = 0
        var longestWait = 0.0
        for t in tracks {
            let states = t.states.withLockedValue { $0 }
            for (_, state) in states {
                if case .waiting(let d) = state { longestWait = max(longestWait, (d).seconds) }
            }
            let after = states.filter { $0.0 > killedAt }
            // The attempt that brought the client back began this long after the server was up
            // (0 when it began before): the backoff bounds it by its maximum.
            if let index = after.firstIndex(where: { if case .connected = $0.1 { true } else { false } }) {
                let connected = after[index]
                if let attempt = after[..<index].last(where: { if case .connecting = $0.1 { true } else { false } }) {
                    first.append(max(0, (attempt.0 - upAt).seconds))
                }
                back.append(max(0, (connected.0 - upAt).seconds))
                if case .connected(_, let r) = connected.1, r == true { recovered += 1 } else { notRecovered += 1 }
            } else {
                notReconnected += 1
            }
            let got = t.received.withLockedValue { $0 }
            let distinct = Set(got)
            missing += o.messages - distinct.intersection(0..<o.messages).count
            duplicates += got.count - distinct.count
            if got != got.sorted() { outOfOrder += 1 }
        }
        firstAttemptAfterUp = first.sorted()
        reconnected = back.sorted()
        self.missing = missing
        self.duplicates = duplicates
        self.outOfOrder = outOfOrder
        self.recovered = recovered
        self.notRecovered = notRecovered
        self.notReconnected = notReconnected
        self.longestWait = longestWait
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    public var summary: String {
        let ms = { (v: Double) in String(format: "%.0f ms", v * 1000) }
        return """
            clients: \(clients), messages: \(messages), server down (SIGKILL to API up again): \(ms(restartSeconds))
            the attempt that brought a client back began, after the server was up: p50 \(ms(Self.percentile(firstAttemptAfterUp, 0.5))), p99 \(ms(Self.percentile(firstAttemptAfterUp, 0.99))), max \(ms(firstAttemptAfterUp.last ?? 0)) (the backoff maximum: \(ms(backoffMaximum)))
            connected again after the server was up: p50 \(ms(Self.percentile(reconnected, 0.5))), p99 \(ms(Self.percentile(reconnected, 0.99))), max \(ms(reconnected.last ?? 0)); not reconnected: \(notReconnected)
            connection attempts in all: \(attempts) (\(String(format: "%.1f", Double(attempts) / Double(max(1, clients)))) per client); longest wait announced between attempts: \(ms(longestWait))
            recovered: \(recovered), not recovered: \(notRecovered)
            missing: \(missing), duplicates: \(duplicates), clients out of order: \(outOfOrder)
            """
    }
}
