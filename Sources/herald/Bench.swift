import ArgumentParser
import Foundation
import HeraldBench

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a running Herald: N clients in one room, pushes through the HTTP API; prints throughput, latency and server cost.",
        discussion: """
            Loopback targets only; bounded by --connections, --messages and --drain-timeout.
            Example: herald bench --transport websocket --connections 10000 --messages 200 --server-pid $(pidof herald)
            """
    )

    @Option(help: "tcp or websocket.") var transport: String = "tcp"
    @Option(help: "Comet client address (host:port). Default: 127.0.0.1:3101 for tcp, :3102 for websocket.") var target: String?
    @Option(help: "WebSocket path.") var path: String = "/sub"
    @Option(help: "Logic HTTP API address.") var api: String = "127.0.0.1:3111"
    @Option(help: "Client connections, all in room bench://1.") var connections: Int = 1000
    @Option(help: "Number of local source addresses 127.0.0.1…127.0.0.N to spread connections over.") var sources: Int = 1
    @Option(help: "Connection attempts in flight at once.") var connectConcurrency: Int = 500
    @Option(help: "Messages pushed to the room.") var messages: Int = 100
    @Option(help: "Messages per second; 0 = burst (as fast as the API accepts them).") var rate: Double = 0
    @Option(help: "Message body size in bytes.") var size: Int = 128
    @Option(help: "HTTP pushes in flight at once.") var pushConcurrency: Int = 4
    @Option(help: "Seconds to wait for deliveries after the last push.") var drainTimeout: Int = 30
    @Option(help: "Server process id (repeat for several processes) for CPU and memory figures.") var serverPid: [Int32] = []
    @Option(help: "Event loop threads of the load tool.") var threads: Int = 1
    @Flag(help: "Exit with status 1 if any message was lost or any connection failed.") var requireNoLoss = false

    func run() async throws {
        raiseOpenFileLimit()
        var o = BenchOptions()
        guard let t = BenchOptions.Transport(rawValue: transport) else { throw ValidationError("--transport must be tcp or websocket") }
        o.transport = t
        let (host, port) = try split(target ?? (t == .tcp ? "127.0.0.1:3101" : "127.0.0.1:3102"), "--target")
        o.host = host
        o.port = port
        o.path = path
        (o.apiHost, o.apiPort) = try split(api, "--api")
        o.connections = connections
        o.sources = (1...max(1, min(sources, 250))).map { "127.0.0.\($0)" }
        o.connectConcurrency = connectConcurrency
        o.messages = messages
        o.rate = rate
        o.size = max(24, size)
        o.pushConcurrency = pushConcurrency
        o.drainTimeout = .seconds(drainTimeout)
        o.serverPIDs = serverPid
        o.threads = threads
        let runner = try LoadRunner(options: o)
        let report = try await runner.run { line in
            FileHandle.standardError.write(Data("  \(line)\n".utf8))
        }
        print(report.summary)
        if requireNoLoss, report.lost > 0 || report.failedConnections > 0 {
            throw ExitCode(1)
        }
    }

    private func split(_ text: String, _ name: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw ValidationError("\(name) must be host:port")
        }
        return (String(text[..<colon]), port)
    }
}
