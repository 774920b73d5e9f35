import Foundation
import HeraldProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Runs one bench: connects and authenticates N clients into one room, pushes messages through
/// the HTTP API, and measures what arrives. Bounded in count and time; loopback targets only.
public struct LoadRunner: Sendable {
    public let options: BenchOptions

    public init(options: BenchOptions) throws {
        if options.workload == .unicast, options.firstID != 0 {
            throw BenchError("the unicast workload runs in one load process")
        }
        for address in [options.host, options.apiHost] + options.targets.map(\.host) + options.sources where !Self.isLoopback(address) {
            throw BenchError("\(address) is not a loopback address; the load tool only targets loopback")
        }
        self.options = options
    }

    static func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address == "localhost"
    }

    /// Other load processes of the same run (`herald bench --processes`): each holds its share of
    /// the connections. The leader waits for them to be ready before pushing and merges their results.
    public struct Helpers: Sendable {
        /// Returns once every helper has its connections authenticated; their number.
        public var ready: @Sendable () async throws -> Int
        /// Returns every helper's result once it has what it expected (or gave up).
        public var results: @Sendable () async throws -> [SubscriberResult]

        public init(ready: @escaping @Sendable () async throws -> Int, results: @escaping @Sendable () async throws -> [SubscriberResult]) {
            self.ready = ready
            self.results = results
        }
    }

    /// A helper process's part: connect its share, call `ready`, receive `messages` per connection
    /// (or stop `drainTimeout` after the last arrival, or after `deadline`), report.
    public func subscribe(
        deadline: Duration,
        ready: @Sendable (Int) -> Void,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> SubscriberResult {
        let o = options
        let recorder = BenchRecorder()
        recorder.keepSamples()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: o.threads)
        defer { Task { try? await group.shutdownGracefully() } }
        let start = ContinuousClock.now
        let (channels, authed) = try await connect(group: group, recorder: recorder)
        let connectSeconds = (ContinuousClock.now - start).seconds
        progress("subscriber: \(authed)/\(o.connections) authenticated in \(String(format: "%.2f", connectSeconds)) s")
        ready(authed)
        let expected = o.messages * authed
        let giveUp = ContinuousClock.now + deadline
        var lastCount = -1
        var lastChange = ContinuousClock.now
        while recorder.received.load(ordering: .relaxed) < expected, ContinuousClock.now < giveUp {
            let r = recorder.received.load(ordering: .relaxed)
            if r != lastCount {
                lastCount = r
                lastChange = ContinuousClock.now
            } else if r > 0, ContinuousClock.now - lastChange > o.drainTimeout {
                break
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let result = try await finish(channels: channels, recorder: recorder)
        return SubscriberResult(
            connections: o.connections,
            authenticated: authed,
            received: result.received,
            lastReceiveNanos: recorder.lastReceiveNanos.load(ordering: .relaxed),
            latenciesMicros: recorder.samples,
            connectSeconds: connectSeconds
        )
    }

    public func run(helpers: Helpers? = nil, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> BenchReport {
        let o = options
        let recorder = BenchRecorder()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: o.threads)
        do {
            let report = try await run(group: group, recorder: recorder, helpers: helpers, progress: progress)
            try? await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Connects `connections` clients, paced by a window of concurrent attempts, and waits (up to a
    /// minute) until they are authenticated.
    private func connect(group: MultiThreadedEventLoopGroup, recorder: BenchRecorder) async throws -> ([any Channel], Int) {
        let o = options
        let token: @Sendable (Int) -> [UInt8] = { i in
            let json = AuthToken(
                mid: Int64(o.firstID + i + 1), key: "bench-\(o.firstID + i)", roomID: "bench://1", platform: "bench", accepts: [o.operation]
            ).jsonBytes()
            // `{…}` becomes `{…,"recover":true}`.
            return o.recover ? json.dropLast() + Array(#","recover":true}"#.utf8) : json
        }
        let sampleEvery = o.sampleEvery > 0 ? o.sampleEvery : max(1, o.connections / 1000)
        var channels: [any Channel] = []
        channels.reserveCapacity(o.connections)
        try await withThrowingTaskGroup(of: (any Channel)?.self) { tasks in
            var next = 0
            func launch() {
                let i = next
                next += 1
                let source = o.sources[i % o.sources.count]
                let target = o.targets.isEmpty ? (host: o.host, port: o.port) : o.targets[i % o.targets.count]
                tasks.addTask {
                    let wire: BenchClientHandler.Wire =
                        o.server == .nchan
                        ? .nchan(path: "\(o.path)/\(o.firstID + i + 1)", host: o.host)
                        : o.transport == .tcp ? .tcp : .websocket(path: o.path, host: o.host)
                    let samples = i % sampleEvery == 0
                    let tokenBytes = token(i)
                    do {
                        return try await Self.open(group: group, source: source, target: target) {
                            BenchClientHandler(
                                wire: wire, token: tokenBytes, pushOperation: o.operation, recorder: recorder, samplesLatency: samples)
                        }
                    } catch {
                        recorder.failedConnects.wrappingIncrement(ordering: .relaxed)
                        return nil
                    }
                }
            }
            for _ in 0..<min(o.connectConcurrency, o.connections) { launch() }
            while let result = try await tasks.next() {
                if let ch = result { channels.append(ch) }
                if next < o.connections { launch() }
            }
        }
        let connected = channels.count
        let authDeadline = ContinuousClock.now + .seconds(60)
        while recorder.authenticated.load(ordering: .relaxed) < connected, ContinuousClock.now < authDeadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        return (channels, recorder.authenticated.load(ordering: .relaxed))
    }

    /// Opens one client connection from `source` to `target` with the handler `makeHandler` builds.
    static func open(
        group: any EventLoopGroup, source: String, target: (host: String, port: Int),
        makeHandler: @escaping @Sendable () -> BenchClientHandler
    ) async throws -> any Channel {
        try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            // Let connect() pick the port (it can reuse TIME_WAIT pairs; bind() cannot).
            .channelOption(ChannelOptions.Types.SocketOption(level: IPPROTO_IP, name: 24), value: 1)
            .bind(to: try SocketAddress(ipAddress: source, port: 0))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(makeHandler()) }
            }
            .connect(host: target.host, port: target.port).get()
    }

    /// Collects the latency samples and closes every connection (with RST, so runs leave no
    /// TIME_WAIT behind to slow the next one down).
    private func finish(
        channels: [any Channel], recorder: BenchRecorder
    ) async throws -> (received: Int, latency: (p50: Double, p90: Double, p99: Double, p999: Double, max: Double, count: UInt64)) {
        for ch in channels {
            try? await ch.eventLoop.submit {
                try ch.pipeline.syncOperations.handler(type: BenchClientHandler.self).flushLatencies()
            }.get()
        }
        let received = recorder.received.load(ordering: .relaxed)
        let latency = recorder.latencyPercentiles()
        for ch in channels {
            try? await (ch as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            try? await ch.close()
        }
        return (received, latency)
    }

    private func run(
        group: MultiThreadedEventLoopGroup,
        recorder: BenchRecorder,
        helpers: Helpers?,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> BenchReport {
        let o = options
        let before = o.serverPIDs.compactMap { ProcessSample.read(pid: $0) }
        let connectStart = ContinuousClock.now
        let (channels, ownAuthed) = try await connect(group: group, recorder: recorder)
        let helperAuthed = try await helpers?.ready() ?? 0
        let authed = ownAuthed + helperAuthed
        let connected = channels.count + helperAuthed
        let connectSeconds = (ContinuousClock.now - connectStart).seconds
        let afterConnect = o.serverPIDs.compactMap { ProcessSample.read(pid: $0) }
        let connectCPU = zip(afterConnect, before).reduce(0.0) { $0 + ($1.0.cpuSeconds - $1.1.cpuSeconds) }
        progress(
            "connected \(connected)/\(o.connections), authenticated \(authed) in \(String(format: "%.2f", connectSeconds)) s"
                + (before.isEmpty ? "" : ", server CPU \(Int(connectCPU / max(connectSeconds, 0.001) * 100))%")
        )

        // Per-connection memory once idle.
        try await Task.sleep(for: o.idleSettle)
        let idle = o.serverPIDs.compactMap { ProcessSample.read(pid: $0) }
        var perConnection: Double?
        if !before.isEmpty, idle.count == before.count, authed > 0 {
            let delta = zip(idle, before).reduce(0) { $0 + ($1.0.rssBytes - $1.1.rssBytes) }
            perConnection = Double(delta) / Double(authed)
        }

        // Push.
        let pusher = PushClient(host: o.apiHost, port: o.apiPort, connections: o.pushConcurrency)
        defer { Task { await pusher.shutdown() } }
        let padding = String(repeating: "x", count: max(0, o.size - 21))
        // Room: every message to every connection. Unicast: each message to one user, so the
        // users that did authenticate are the ones pushed to.
        let unicast = o.workload == .unicast
        let expected = unicast ? o.messages : o.messages * authed
        let ownExpected = unicast ? o.messages : o.messages * ownAuthed
        let pushStartNanos = MonotonicClock.nanoseconds()
        let pushStart = ContinuousClock.now
        let cpuBefore = o.serverPIDs.compactMap { ProcessSample.read(pid: $0) }
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let r = recorder.received.load(ordering: .relaxed)
                let elapsed = (ContinuousClock.now - pushStart).seconds
                progress(
                    "received \(r)/\(expected) (\(Int(Double(r) / max(elapsed, 0.001)))/s) closed \(recorder.closed.load(ordering: .relaxed))"
                )
            }
        }
        let failedPushes = try await PushSchedule.run(messages: o.messages, rate: o.rate, workers: o.pushConcurrency, start: pushStart) {
            j in
            let body = "\(MonotonicClock.nanoseconds())|" + padding
            if o.server == .nchan { return try await pusher.publishNchan(channel: o.firstID + j % max(1, authed) + 1, body: body) }
            return unicast
                ? try await pusher.pushMid(operation: o.operation, mid: o.firstID + j % max(1, authed) + 1, body: body)
                : try await pusher.pushRoom(operation: o.operation, type: "bench", room: "1", body: body)
        }
        let lastPush = ContinuousClock.now
        while recorder.received.load(ordering: .relaxed) < ownExpected, ContinuousClock.now - lastPush < o.drainTimeout {
            try await Task.sleep(for: .milliseconds(5))
        }
        let helperResults = try await helpers?.results() ?? []
        reporter.cancel()
        let cpuAfter = o.serverPIDs.compactMap { ProcessSample.read(pid: $0) }
        for h in helperResults { recorder.record(latenciesMicros: h.latenciesMicros) }
        let lastReceive = ([recorder.lastReceiveNanos.load(ordering: .relaxed)] + helperResults.map(\.lastReceiveNanos)).max() ?? 0
        let pushSeconds = Double(max(lastReceive, pushStartNanos) - pushStartNanos) / 1e9
        var cpuPercent: Double?
        if cpuBefore.count == cpuAfter.count, !cpuBefore.isEmpty, pushSeconds > 0 {
            let used = zip(cpuAfter, cpuBefore).reduce(0.0) { $0 + ($1.0.cpuSeconds - $1.1.cpuSeconds) }
            cpuPercent = used / (ContinuousClock.now - pushStart).seconds * 100
        }

        let (ownReceived, latency) = try await finish(channels: channels, recorder: recorder)
        let received = ownReceived + helperResults.reduce(0) { $0 + $1.received }
        if failedPushes > 0 { progress("\(failedPushes) pushes were refused by the API") }
        return BenchReport(
            transport: o.transport.rawValue + (unicast ? ", unicast" : ""),
            connections: o.connections + helperResults.reduce(0) { $0 + $1.connections },
            failedConnections: o.connections + helperResults.reduce(0) { $0 + $1.connections } - authed,
            connectSeconds: connectSeconds,
            serverBytesPerConnection: perConnection,
            messages: o.messages - failedPushes,
            expected: unicast ? o.messages - failedPushes : (o.messages - failedPushes) * authed,
            received: received,
            pushSeconds: pushSeconds,
            latency: latency,
            serverCPUPercent: cpuPercent,
            serverRSSBytes: cpuAfter.isEmpty ? nil : cpuAfter.reduce(0) { $0 + $1.rssBytes }
        )
    }
}

public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
