import ArgumentParser
import Foundation
import HeraldBench

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a running Herald: N clients in one room, pushes through the HTTP API; prints throughput, latency and server cost.",
        discussion: """
            Loopback targets only; bounded by --connections, --messages and --drain-timeout.
            Example: herald bench --transport websocket --connections 10000 --messages 200 --server-pid $(pidof herald)
            Several comets and more connections than one process may open (20,000 files here):
              herald bench --targets 127.0.0.1:3101,127.0.0.1:3201,127.0.0.1:3301 --connections 50000 --processes 3
            A comet killed under load, its clients reconnecting to another and recovering (history on):
              herald bench --target 127.0.0.1:3101 --kill-comet $COMET_PID --failover-to 127.0.0.1:3201 \\
                --connections 10000 --messages 400 --rate 20 --kill-after 150
            """
    )

    @Option(
        help:
            "herald, or nchan: the same load against nginx with nchan (websocket, unicast; subscriber i on <path>/<id>, publishes POST /pub/<id> to --api)."
    ) var server: String = "herald"
    @Option(help: "tcp or websocket.") var transport: String = "tcp"
    @Option(
        help:
            "room (every message to every connection, in room bench://1) or unicast (each connection its own user; message j to user j mod N)."
    ) var workload: String = "room"
    @Option(help: "Comet client address (host:port). Default: 127.0.0.1:3101 for tcp, :3102 for websocket.") var target: String?
    @Option(help: "Several comet client addresses, comma-separated; connections are spread over them round-robin.") var targets: String?
    @Option(help: "WebSocket path.") var path: String = "/sub"
    @Option(help: "Logic HTTP API address.") var api: String = "127.0.0.1:3111"
    @Option(help: "Client connections, all in room bench://1.") var connections: Int = 1000
    @Option(help: "Load processes sharing the connections (this one pushes and reports; the others only receive).") var processes: Int = 1
    @Option(help: "Number of local source addresses 127.0.0.1…127.0.0.N to spread connections over.") var sources: Int = 1
    @Option(help: "Connection attempts in flight at once.") var connectConcurrency: Int = 500
    @Option(help: "Messages pushed: to the room (each to every connection), or in all (unicast: each to one user).") var messages: Int = 100
    @Option(help: "Messages per second; 0 = burst (as fast as the API accepts them).") var rate: Double = 0
    @Option(help: "Message body size in bytes.") var size: Int = 128
    @Option(help: "HTTP pushes in flight at once (kept-alive connections to the API).") var pushConcurrency: Int = 16
    @Option(help: "Seconds to wait for deliveries after the last push.") var drainTimeout: Int = 30
    @Option(help: "Server process id (repeat for several processes) for CPU and memory figures.") var serverPid: [Int32] = []
    @Option(help: "Event loop threads of the load tool.") var threads: Int = 1
    @Option(help: .hidden) var firstId: Int = 0
    @Flag(help: .hidden) var subscriber = false
    @Flag(help: "Exit with status 1 if any message was lost or any connection failed.") var requireNoLoss = false
    @Flag(help: "Connections opt into recovery (\"recover\": true): with [history] on, pushes carry their stream and offset.") var recover =
        false

    @Option(
        help:
            "Failover bench: SIGKILL this comet (the one at --target) before message --kill-after; its clients reconnect to --failover-to and recover."
    ) var killComet: Int32?
    @Option(help: "Failover bench: the comet the clients reconnect to (host:port).") var failoverTo: String?
    @Option(help: "Failover bench: the kill comes before this message (default: a third of --messages).") var killAfter: Int?

    func run() async throws {
        raiseOpenFileLimit()
        var o = BenchOptions()
        guard let t = BenchOptions.Transport(rawValue: transport) else { throw ValidationError("--transport must be tcp or websocket") }
        o.transport = t
        guard let w = BenchOptions.Workload(rawValue: workload) else { throw ValidationError("--workload must be room or unicast") }
        guard w == .room || processes == 1 else { throw ValidationError("--workload unicast runs in one load process (--processes 1)") }
        o.workload = w
        guard let kind = BenchOptions.Server(rawValue: server) else { throw ValidationError("--server must be herald or nchan") }
        guard kind == .herald || (t == .websocket && w == .unicast && processes == 1) else {
            throw ValidationError("--server nchan runs --transport websocket --workload unicast in one process")
        }
        o.server = kind
        let (host, port) = try split(target ?? (t == .tcp ? "127.0.0.1:3101" : "127.0.0.1:3102"), "--target")
        o.host = host
        o.port = port
        o.targets = try (targets ?? "").split(separator: ",").map { try split(String($0), "--targets") }
        o.path = path
        (o.apiHost, o.apiPort) = try split(api, "--api")
        let share = max(1, connections / max(1, processes))
        o.connections = processes > 1 ? connections - share * (processes - 1) : connections
        o.firstID = firstId
        o.sources = (1...max(1, min(sources, 250))).map { "127.0.0.\($0)" }
        o.connectConcurrency = connectConcurrency
        o.messages = messages
        o.rate = rate
        o.size = max(24, size)
        o.pushConcurrency = pushConcurrency
        o.drainTimeout = .seconds(drainTimeout)
        o.serverPIDs = serverPid
        o.threads = threads
        o.recover = recover
        let log: @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data("  \(line)\n".utf8)) }
        if killComet != nil || failoverTo != nil {
            guard let killComet, let failoverTo else { throw ValidationError("--kill-comet and --failover-to go together") }
            guard processes == 1 else { throw ValidationError("the failover bench runs in one load process (--processes 1)") }
            o.failover = .init(cometPID: killComet, target: try split(failoverTo, "--failover-to"), killAfter: killAfter ?? messages / 3)
            let report = try await FailoverRunner(options: o).run(progress: log)
            print(report.summary)
            if requireNoLoss, !report.clean { throw ExitCode(1) }
            return
        }
        let runner = try LoadRunner(options: o)

        if subscriber {
            // A helper of a multi-process run: report readiness and the result on standard output.
            let result = try await runner.subscribe(
                deadline: .seconds(600), ready: { n in FileHandle.standardOutput.write(Data("READY \(n)\n".utf8)) }, progress: log)
            FileHandle.standardOutput.write(
                Data(("RESULT " + String(decoding: try JSONEncoder().encode(result), as: UTF8.self) + "\n").utf8))
            return
        }
        let helpers = try (1..<max(1, processes)).map { k in
            try HelperProcess(arguments: helperArguments(connections: share, firstID: o.connections + (k - 1) * share))
        }
        defer { for h in helpers { h.stop() } }
        let hooks =
            helpers.isEmpty
            ? nil
            : LoadRunner.Helpers(
                ready: { try await helpers.asyncReduce(0) { $0 + (try await $1.ready()) } },
                results: { try await helpers.asyncMap { try await $0.result() } }
            )
        let report = try await runner.run(helpers: hooks, progress: log)
        print(report.summary)
        if requireNoLoss, report.lost > 0 || report.failedConnections > 0 {
            throw ExitCode(1)
        }
    }

    /// The command line of a helper process: the same load, its share of the connections, receive only.
    private func helperArguments(connections share: Int, firstID: Int) -> [String] {
        var args = [
            "bench", "--subscriber", "--transport", transport, "--path", path, "--api", api,
            "--connections", String(share), "--first-id", String(firstID), "--sources", String(sources),
            "--connect-concurrency", String(connectConcurrency), "--messages", String(messages),
            "--drain-timeout", String(drainTimeout), "--threads", String(threads),
        ]
        if recover { args.append("--recover") }
        if let targets { args += ["--targets", targets] }
        if let target { args += ["--target", target] }
        return args
    }

    private func split(_ text: String, _ name: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw ValidationError("\(name) must be host:port")
        }
        return (String(text[..<colon]), port)
    }
}

/// A receive-only load process started by the leader (`herald bench --subscriber ...`), read
/// through its standard output: `READY <authenticated>`, then `RESULT <json>`.
final class HelperProcess: @unchecked Sendable {
    private let process = Process()
    private let lines: AsyncStream<String>

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        let (stream, continuation) = AsyncStream<String>.makeStream()
        lines = stream
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread {
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    continuation.yield(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending = Data(pending[pending.index(after: newline)...])
                }
            }
            continuation.finish()
        }
        try process.run()
    }

    private func next(prefix: String) async throws -> String {
        for await line in lines where line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
        throw ValidationError("a load helper process ended before reporting \(prefix)")
    }

    func ready() async throws -> Int { Int(try await next(prefix: "READY ")) ?? 0 }

    func result() async throws -> SubscriberResult {
        try JSONDecoder().decode(SubscriberResult.self, from: Data(try await next(prefix: "RESULT ").utf8))
    }

    func stop() { if process.isRunning { process.terminate() } }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await transform(e)) }
        return out
    }

    func asyncReduce<T>(_ initial: T, _ next: (T, Element) async throws -> T) async rethrows -> T {
        var value = initial
        for e in self { value = try await next(value, e) }
        return value
    }
}
