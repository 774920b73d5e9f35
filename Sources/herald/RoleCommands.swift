import ArgumentParser
import HeraldApp
import Logging

/// `herald comet --config configs/cluster/comet.toml`
struct CometCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comet",
        abstract: "Run the comet role alone: client connections, gRPC goim.comet.Comet for job, registered in the redis registry."
    )

    @Option(name: .shortAndLong, help: "Configuration file (TOML), e.g. configs/cluster/comet.toml.")
    var config: String

    @Option(name: .long, help: "Log level; overrides [log] level.")
    var logLevel: Logger.Level?

    func run() async throws {
        var configuration = try ProcessSetUp.load(config)
        _ = ProcessSetUp.bootstrap(&configuration, logLevel: logLevel)
        let server: CometRoleServer
        do {
            server = try CometRoleServer(configuration: configuration, logger: Logger(label: "herald.comet"))
        } catch {
            throw ValidationError("\(error)")
        }
        // SIGHUP: new logic addresses, limits, log level and certificates apply live.
        let reloader = await ProcessSetUp.reloadOnHangup(config, logger: Logger(label: "herald.comet")) { try await server.reload($0) }
        defer { reloader.cancel() }
        try await server.run(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

/// `herald logic --config configs/cluster/logic.toml`
struct LogicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logic",
        abstract: "Run the logic role alone: the HTTP push API, gRPC goim.logic.Logic for comets, sessions in redis."
    )

    @Option(name: .shortAndLong, help: "Configuration file (TOML), e.g. configs/cluster/logic.toml.")
    var config: String

    @Option(name: .long, help: "Log level; overrides [log] level.")
    var logLevel: Logger.Level?

    func run() async throws {
        var configuration = try ProcessSetUp.load(config)
        let registry = ProcessSetUp.bootstrap(&configuration, logLevel: logLevel)
        let server: LogicRoleServer
        do {
            server = try LogicRoleServer(configuration: configuration, logger: Logger(label: "herald.logic"), metricsText: { registry.emitToBuffer() })
        } catch {
            throw ValidationError("\(error)")
        }
        // SIGHUP: auth settings, the migration phase, log level and certificates apply live.
        let reloader = await ProcessSetUp.reloadOnHangup(config, logger: Logger(label: "herald.logic")) { try await server.reload($0) }
        defer { reloader.cancel() }
        try await server.run(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

/// `herald job --config configs/cluster/job.toml`
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Run the job role alone: consume the queue and push to the registered comets over gRPC."
    )

    @Option(name: .shortAndLong, help: "Configuration file (TOML), e.g. configs/cluster/job.toml.")
    var config: String

    @Option(name: .long, help: "Log level; overrides [log] level.")
    var logLevel: Logger.Level?

    func run() async throws {
        var configuration = try ProcessSetUp.load(config)
        _ = ProcessSetUp.bootstrap(&configuration, logLevel: logLevel)
        let server: JobRoleServer
        do {
            server = try JobRoleServer(configuration: configuration, logger: Logger(label: "herald.job"))
        } catch {
            throw ValidationError("\(error)")
        }
        // SIGHUP: the migration phase and log level apply live.
        let reloader = await ProcessSetUp.reloadOnHangup(config, logger: Logger(label: "herald.job")) { try await server.reload($0) }
        defer { reloader.cancel() }
        try await server.run(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}
