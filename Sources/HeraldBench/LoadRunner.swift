import Foundation
import HeraldProtocol
import HeraldTesting
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Runs one bench: connects and authenticates N clients into one room, pushes messages through
/// the HTTP API, and measures what arrives. Bounded in count and time; loopback targets only.
public struct LoadRunner: Sendable {
    public let options: BenchOptions

    public init(options: BenchOptions) throws {
        for address in [options.host, options.apiHost] + options.sources where !Self.isLoopback(address) {
            throw BenchError("\(address) is not a loopback address; the load tool only targets loopback")
        }
        self.options = options
    }

    static func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address == "localhost"
    }

    public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> BenchReport {
        let o = options
        let recorder = BenchRecorder()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: o.threads)
        do {
            let report = try await run(group: group, recorder: recorder, progress: progress)
            try? await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func run(
        group: MultiThreadedEventLoopGroup,
        recorder: BenchRecorder,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> BenchReport {
        let o = options
        let before = o.serverPIDs.compactMap { ProcessSample.read(pid: $0) }
        let token: @Sendable (Int) -> [UInt8] = { i in
            AuthToken(mid: Int64(i + 1), key: "bench-\(i)", roomID: "bench://1", platform: "bench", accepts: [o.operation]).jsonBytes()
        }
        let sampleEvery = o.sampleEvery > 0 ? o.sampleEvery : max(1, o.connections / 1000)

        // Connect, paced by a window of concurrent attempts.
        let connectStart = ContinuousClock.now
        var channels: [any Channel] = []
        channels.reserveCapacity(o.connections)
        try await withThrowingTaskGroup(of: (any Channel)?.self) { tasks in
            var next = 0
            func launch() {
                let i = next
                next += 1
                let source = o.sources[i % o.sources.count]
                tasks.addTask {
                    let wire: BenchClientHandler.Wire = o.transport == .tcp ? .tcp : .websocket(path: o.path, host: o.host)
                    let samples = i % sampleEvery == 0
                    let tokenBytes = token(i)
                    do {
                        return try await ClientBootstrap(group: group)
                            .channelOption(.socketOption(.tcp_nodelay), value: 1)
                            // Let connect() pick the port (it can reuse TIME_WAIT pairs; bind() cannot).
                            .channelOption(ChannelOptions.Types.SocketOption(level: IPPROTO_IP, name: 24), value: 1)
                            .bind(to: try SocketAddress(ipAddress: source, port: 0))
                            .channelInitializer { ch in
                                ch.eventLoop.makeCompletedFuture {
                                    let handler = BenchClientHandler(
                                        wire: wire, token: tokenBytes, pushOperation: o.operation, recorder: recorder,
                                        samplesLatency: samples
                                    )
                                    try ch.pipeline.syncOperations.addHandler(handler)
                                }
                            }
                            .connect(host: o.host, port: o.port).get()
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
        let connectSeconds = (ContinuousClock.now - connectStart).seconds
        let authed = recorder.authenticated.load(ordering: .relaxed)
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
        let http = HTTPTestClient(host: o.apiHost, port: o.apiPort)
        let padding = String(repeating: "x", count: max(0, o.size - 21))
        let expected = o.messages * authed
        let pushStartNanos = MonotonicClock.nanoseconds()
        let pushStart = ContinuousClock.now
        let cpuBefore = o.serverPIDs.compactMap { ProcessSample.read(pid: $0) }
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let r = recorder.received.load(ordering: .relaxed)
                let elapsed = (ContinuousClock.now - pushStart).seconds
                progress("received \(r)/\(expected) (\(Int(Double(r) / max(elapsed, 0.001)))/s) closed \(recorder.closed.load(ordering: .relaxed))")
            }
        }
        let failures = NIOLockedValueBox(0)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            let workers = max(1, o.pushConcurrency)
            for w in 0..<workers {
                tasks.addTask {
                    var j = w
                    while j < o.messages {
                        if o.rate > 0 {
                            let due = pushStart + .nanoseconds(Int64(Double(j) / o.rate * 1e9))
                            let wait = due - ContinuousClock.now
                            if wait > .zero { try await Task.sleep(for: wait) }
                        }
                        let body = "\(MonotonicClock.nanoseconds())|" + padding
                        let reply = try await http.post("/goim/push/room?operation=\(o.operation)&type=bench&room=1", body: body)
                        if reply.code != 0 { failures.withLockedValue { $0 += 1 } }
                        j += workers
                    }
                }
            }
            try await tasks.waitForAll()
        }
        let lastPush = ContinuousClock.now
        while recorder.received.load(ordering: .relaxed) < expected, ContinuousClock.now - lastPush < o.drainTimeout {
            try await Task.sleep(for: .milliseconds(5))
        }
        reporter.cancel()
        let cpuAfter = o.serverPIDs.compactMap { ProcessSample.read(pid: $0) }
        let lastReceive = recorder.lastReceiveNanos.load(ordering: .relaxed)
        let pushSeconds = Double(max(lastReceive, pushStartNanos) - pushStartNanos) / 1e9
        var cpuPercent: Double?
        if cpuBefore.count == cpuAfter.count, !cpuBefore.isEmpty, pushSeconds > 0 {
            let used = zip(cpuAfter, cpuBefore).reduce(0.0) { $0 + ($1.0.cpuSeconds - $1.1.cpuSeconds) }
            cpuPercent = used / (ContinuousClock.now - pushStart).seconds * 100
        }

        // Collect latency samples, then close.
        for ch in channels {
            try? await ch.eventLoop.submit {
                try ch.pipeline.syncOperations.handler(type: BenchClientHandler.self).flushLatencies()
            }.get()
        }
        let received = recorder.received.load(ordering: .relaxed)
        let latency = recorder.latencyPercentiles()
        // Close with RST (linger 0) so runs leave no TIME_WAIT behind to slow the next one down.
        for ch in channels {
            try? await (ch as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            try? await ch.close()
        }
        let failedPushes = failures.withLockedValue { $0 }
        if failedPushes > 0 { progress("\(failedPushes) pushes were refused by the API") }
        return BenchReport(
            transport: o.transport.rawValue,
            connections: o.connections,
            failedConnections: o.connections - authed,
            connectSeconds: connectSeconds,
            serverBytesPerConnection: perConnection,
            messages: o.messages - failedPushes,
            expected: (o.messages - failedPushes) * authed,
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
