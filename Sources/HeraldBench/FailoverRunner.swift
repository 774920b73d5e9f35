import Atomics
import Foundation
import HeraldProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The failover bench: N clients in room bench://1, opted into recovery, on one comet; messages
/// pushed at a fixed rate; part way through, that comet is killed (SIGKILL), every client
/// reconnects to another comet naming its room position, and the figures say how long until all
/// had their recovery reply and whether every message reached every client exactly once.
/// Bounded in count and time; loopback targets only.
public struct FailoverRunner: Sendable {
    public let options: BenchOptions
    private let failover: BenchOptions.Failover

    public init(options: BenchOptions) throws {
        guard let failover = options.failover else { throw BenchError("the failover bench needs a comet to kill and one to reconnect to") }
        guard options.workload == .room else { throw BenchError("the failover bench pushes to the room") }
        guard options.rate > 0 else { throw BenchError("the failover bench pushes at a fixed --rate") }
        guard failover.killAfter > 0, failover.killAfter < options.messages else {
            throw BenchError("--kill-after must be between 1 and --messages - 1")
        }
        for address in [options.host, options.apiHost, failover.target.host] where !LoadRunner.isLoopback(address) {
            throw BenchError("\(address) is not a loopback address; the load tool only targets loopback")
        }
        self.options = options
        self.failover = failover
    }

    /// What the run's clients share: flags, counters and the open connection of each.
    private final class Shared: Sendable {
        let killed = ManagedAtomic<Bool>(false)
        let finishing = ManagedAtomic<Bool>(false)
        let killNanos = ManagedAtomic<UInt64>(0)
        let closedBeforeKill = ManagedAtomic<Int>(0)
        let reconnects = ManagedAtomic<Int>(0)
        let failedReconnects = ManagedAtomic<Int>(0)
        let live = NIOLockedValueBox<[Int: any Channel]>([:])
        let queue: AsyncStream<RecoveryTrack>.Continuation
        let closed: AsyncStream<RecoveryTrack>

        init() { (closed, queue) = AsyncStream<RecoveryTrack>.makeStream() }
    }

    /// A client may reconnect this many times (a comet that closes a recovering connection — slow
    /// consumer, overflow — gets it back, but not forever).
    private static let connectionsPerClient = 8

    public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> FailoverReport {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
        do {
            let report = try await run(group: group, progress: progress)
            try? await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func identity(_ i: Int) -> [UInt8] {
        AuthToken(mid: Int64(i + 1), key: "bench-\(i)", roomID: "bench://1", platform: "bench", accepts: [options.operation]).jsonBytes()
    }

    private func run(group: MultiThreadedEventLoopGroup, progress: @escaping @Sendable (String) -> Void) async throws -> FailoverReport {
        let o = options
        let recorder = BenchRecorder()
        let shared = Shared()
        let tracks = (0..<o.connections).map(RecoveryTrack.init(index:))
        let wire: BenchClientHandler.Wire = o.transport == .tcp ? .tcp : .websocket(path: o.path, host: o.host)
        let onClosed: @Sendable (RecoveryTrack) -> Void = { track in
            if shared.finishing.load(ordering: .relaxed) { return }
            if shared.killed.load(ordering: .relaxed) {
                shared.queue.yield(track)
            } else {
                shared.closedBeforeKill.wrappingIncrement(ordering: .relaxed)
            }
        }
        let identity = self.identity

        // 1. Every client on the comet that will be killed, opted in: `"recover": true`.
        let connectStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            var next = 0
            func launch() {
                let track = tracks[next]
                next += 1
                tasks.addTask {
                    let token = identity(track.index).dropLast() + Array(#","recover":true}"#.utf8)
                    do {
                        let ch = try await LoadRunner.open(
                            group: group, source: o.sources[track.index % o.sources.count], target: (o.host, o.port)
                        ) {
                            BenchClientHandler(
                                wire: wire, token: Array(token), pushOperation: o.operation, recorder: recorder,
                                samplesLatency: false, track: track, onClosed: onClosed)
                        }
                        shared.live.withLockedValue { $0[track.index] = ch }
                    } catch {
                        recorder.failedConnects.wrappingIncrement(ordering: .relaxed)
                    }
                }
            }
            for _ in 0..<min(o.connectConcurrency, o.connections) { launch() }
            while try await tasks.next() != nil {
                if next < o.connections { launch() }
            }
        }
        let connected = shared.live.withLockedValue { $0.count }
        let authDeadline = ContinuousClock.now + .seconds(60)
        while recorder.authenticated.load(ordering: .relaxed) < connected, ContinuousClock.now < authDeadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let authed = recorder.authenticated.load(ordering: .relaxed)
        progress("\(authed)/\(o.connections) authenticated in \(String(format: "%.2f", (ContinuousClock.now - connectStart).seconds)) s")
        guard authed == o.connections, recorder.unpositioned.load(ordering: .relaxed) == 0 else {
            await close(shared)
            throw BenchError(
                "\(authed) of \(o.connections) clients authenticated (\(shared.closedBeforeKill.load(ordering: .relaxed)) closed by the comet), "
                    + "\(recorder.unpositioned.load(ordering: .relaxed)) without a room position "
                    + "(is [history] on and the room kept?)")
        }

        // 2. Reconnects: every client of the killed comet, to the other one, naming its position;
        //    `connectConcurrency` attempts in flight.
        let target = failover.target
        let reconnector = Task {
            await withTaskGroup(of: Void.self) { tasks in
                var inFlight = 0
                for await track in shared.closed {
                    // Attempts, not authenticated connections: a connection closed before its auth
                    // reply counts too, so no client reconnects forever.
                    track.reconnectAttempts += 1
                    if track.reconnectAttempts > Self.connectionsPerClient { continue }
                    if inFlight >= o.connectConcurrency {
                        await tasks.next()
                        inFlight -= 1
                    }
                    inFlight += 1
                    tasks.addTask {
                        for _ in 0..<50 where !shared.finishing.load(ordering: .relaxed) {
                            do {
                                let ch = try await LoadRunner.open(
                                    group: group, source: o.sources[track.index % o.sources.count], target: target
                                ) {
                                    BenchClientHandler(
                                        wire: wire, token: track.reconnectToken(identity(track.index)), pushOperation: o.operation,
                                        recorder: recorder, samplesLatency: false, track: track, onClosed: onClosed)
                                }
                                shared.live.withLockedValue { $0[track.index] = ch }
                                shared.reconnects.wrappingIncrement(ordering: .relaxed)
                                // Connected after the run began closing (its list was taken): close it here.
                                if shared.finishing.load(ordering: .relaxed) { try? await ch.close() }
                                return
                            } catch {
                                try? await Task.sleep(for: .milliseconds(100))
                            }
                        }
                        if !shared.finishing.load(ordering: .relaxed) { shared.failedReconnects.wrappingIncrement(ordering: .relaxed) }
                    }
                }
            }
        }

        // 3. Push at the fixed rate; the comet dies just before message `killAfter`.
        let pusher = PushClient(host: o.apiHost, port: o.apiPort, connections: o.pushConcurrency)
        let padding = String(repeating: "x", count: max(0, o.size - 21))
        let pushStart = ContinuousClock.now
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                progress(
                    "received \(recorder.received.load(ordering: .relaxed)), reconnected \(shared.reconnects.load(ordering: .relaxed)), "
                        + "closed \(recorder.closed.load(ordering: .relaxed))")
            }
        }
        let cometPID = failover.cometPID
        let killAfter = failover.killAfter
        let refused = try await PushSchedule.run(messages: o.messages, rate: o.rate, workers: o.pushConcurrency, start: pushStart) { j in
            if j == killAfter {
                shared.killed.store(true, ordering: .relaxed)
                shared.killNanos.store(MonotonicClock.nanoseconds(), ordering: .relaxed)
                kill(cometPID, SIGKILL)
                progress("comet \(cometPID) killed before message \(j)")
            }
            return try await pusher.pushRoom(
                operation: o.operation, type: "bench", room: "1", body: "\(MonotonicClock.nanoseconds())|" + padding)
        }
        await pusher.shutdown()

        // 4. Until every client has every accepted message (then a second for late copies), or
        //    nothing arrived for `drainTimeout`.
        let accepted = o.messages - refused
        let expected = accepted * o.connections
        var last = -1
        var lastChange = ContinuousClock.now
        while true {
            let r = recorder.received.load(ordering: .relaxed)
            if r >= expected {
                try await Task.sleep(for: .seconds(1))
                break
            }
            if r != last {
                last = r
                lastChange = ContinuousClock.now
            } else if ContinuousClock.now - lastChange > o.drainTimeout {
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        reporter.cancel()
        await close(shared)
        reconnector.cancel()
        await reconnector.value

        // 5. The figures, read from the clients' tracks once every connection is closed.
        let killNanos = shared.killNanos.load(ordering: .relaxed)
        let moved = tracks.filter { $0.connections >= 2 }
        let recoverySeconds = moved.map { Double($0.recoveredAtNanos &- killNanos) / 1e9 }.sorted()
        func percentile(_ p: Double) -> Double {
            recoverySeconds.isEmpty ? 0 : recoverySeconds[min(recoverySeconds.count - 1, Int(Double(recoverySeconds.count) * p))]
        }
        return FailoverReport(
            transport: o.transport.rawValue,
            clients: o.connections,
            cometPID: cometPID,
            killAfter: killAfter,
            messages: o.messages,
            refused: o.messages - accepted,
            closedBeforeKill: shared.closedBeforeKill.load(ordering: .relaxed),
            reconnected: moved.count,
            failedReconnects: shared.failedReconnects.load(ordering: .relaxed),
            connections: tracks.reduce(0) { $0 + $1.connections },
            recovered: moved.filter { $0.recovered == true }.count,
            notRecovered: moved.filter { $0.recovered == false }.count,
            recoveryFirst: recoverySeconds.first ?? 0,
            recoveryP10: percentile(0.1),
            recoveryP50: percentile(0.5),
            recoveryP99: percentile(0.99),
            recoveryMax: recoverySeconds.last ?? 0,
            expected: expected,
            receivedOnce: tracks.reduce(0) { $0 + $1.fresh },
            missing: tracks.reduce(0) { $0 + $1.missing(of: accepted) },
            duplicates: tracks.reduce(0) { $0 + $1.repeated },
            completeClients: tracks.filter { $0.missing(of: accepted) == 0 && $0.repeated == 0 }.count
        )
    }

    /// Closes every open client connection (with RST: no TIME_WAIT left behind) and stops reconnecting.
    private func close(_ shared: Shared) async {
        shared.finishing.store(true, ordering: .relaxed)
        shared.queue.finish()
        let channels = shared.live.withLockedValue { Array($0.values) }
        for ch in channels {
            try? await (ch as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            try? await ch.close()
        }
    }
}

/// The figures of one failover bench run.
public struct FailoverReport: Sendable {
    public var transport: String
    public var clients: Int
    public var cometPID: Int32
    public var killAfter: Int
    public var messages: Int
    public var refused: Int
    public var closedBeforeKill: Int
    /// Clients that authenticated again on the other comet.
    public var reconnected: Int
    public var failedReconnects: Int
    /// Authenticated connections of all clients (at least 2 per client that moved).
    public var connections: Int
    public var recovered: Int
    public var notRecovered: Int
    /// Seconds from the kill to a client's recovery reply on the other comet.
    public var recoveryFirst: Double
    public var recoveryP10: Double
    public var recoveryP50: Double
    public var recoveryP99: Double
    public var recoveryMax: Double
    public var expected: Int
    public var receivedOnce: Int
    public var missing: Int
    public var duplicates: Int
    /// Clients that received every accepted message exactly once.
    public var completeClients: Int

    /// Every client moved, recovered, and got every message exactly once.
    public var clean: Bool {
        reconnected == clients && recovered == clients && missing == 0 && duplicates == 0 && closedBeforeKill == 0 && refused == 0
    }

    public var summary: String {
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        return [
            "failover             \(transport), \(clients) clients, comet \(cometPID) killed before message \(killAfter) of \(messages)",
            "reconnected          \(reconnected) of \(clients) clients (\(connections - clients) reconnections, \(failedReconnects) gave up, \(closedBeforeKill) closed before the kill)",
            "recovery             \(recovered) recovered: true, \(notRecovered) recovered: false",
            "time to recover      all \(f(recoveryMax)) s after the kill (first \(f(recoveryFirst)) s, p10 \(f(recoveryP10)) s, p50 \(f(recoveryP50)) s, p99 \(f(recoveryP99)) s)",
            "messages             \(messages - refused) pushed (\(refused) refused), \(expected) deliveries expected, \(receivedOnce) received once, \(missing) missing, \(duplicates) duplicates",
            "clients complete     \(completeClients) of \(clients) have every message exactly once",
        ].joined(separator: "\n")
    }
}
