import ArgumentParser
import Foundation
import HeraldBench
import HeraldClient

struct ClientBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client-bench",
        abstract: "Restart a server under N HeraldClient instances: how fast they come back, and whether each got every message once.",
        discussion: """
            Runs `herald serve --config <config>` itself, connects the clients (room bench://restart, recovery on),
            pushes --messages at --rate, SIGKILLs the server after --restart-after and starts it again --down-ms later. Give the
            server history in Redis ([history] store = "redis"): a memory store does not outlive the process.
            Example (scripts/bench-client-restart.sh writes the configuration and starts redis-server):
              herald client-bench --config restart.toml --target tcp://127.0.0.1:3101 --clients 1000
            """
    )

    @Option(help: "The configuration herald serve runs on.") var config: String
    @Option(help: "The comet endpoint: tcp://host:port or ws://host:port/sub.") var target: String = "tcp://127.0.0.1:3101"
    @Option(help: "Logic HTTP API address.") var api: String = "127.0.0.1:3111"
    @Option(help: "HeraldClient instances in this process.") var clients: Int = 1000
    @Option(help: "Messages pushed to the room.") var messages: Int = 60
    @Option(help: "Messages per second.") var rate: Double = 20
    @Option(help: "The server is killed after this many messages (default: a third).") var restartAfter: Int?
    @Option(help: "The clients' backoff: first wait, in milliseconds.") var backoffInitialMs: Int = 200
    @Option(help: "The clients' backoff: longest wait, in milliseconds.") var backoffMaxMs: Int = 2000
    @Option(help: "Milliseconds the server stays down before it is started again.") var downMs: Int = 3000
    @Option(help: "Seconds to wait for deliveries after the last push.") var drainTimeout: Int = 60
    @Flag(help: "Exit 1 unless every client came back, recovered, and got every message once, in order.")
    var requireClean = false

    func run() async throws {
        guard let endpoint = HeraldEndpoint(url: target) else {
            throw ValidationError("--target must be tcp://host:port or ws://host:port/path")
        }
        let parts = api.split(separator: ":")
        guard parts.count == 2, let apiPort = Int(parts[1]) else { throw ValidationError("--api must be host:port") }
        var o = ClientRestartRunner.Options(binary: CommandLine.arguments[0], config: config, endpoint: endpoint)
        if let resolved = Bundle.main.executablePath { o.binary = resolved }
        o.apiHost = String(parts[0])
        o.apiPort = apiPort
        o.clients = clients
        o.messages = messages
        o.rate = rate
        o.restartAfter = restartAfter ?? messages / 3
        o.backoff = ReconnectBackoff(initial: .milliseconds(backoffInitialMs), maximum: .milliseconds(backoffMaxMs))
        o.drainTimeout = .seconds(drainTimeout)
        o.downFor = .milliseconds(max(0, downMs))
        let log: @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data("  \(line)\n".utf8)) }
        let report = try await ClientRestartRunner(options: o).run(progress: log)
        print(report.summary)
        if requireClean, !report.clean { throw ExitCode(1) }
    }
}
