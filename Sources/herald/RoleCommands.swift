import ArgumentParser
import HeraldApp
import Logging

/// `herald comet --config configs/cluster/comet.toml`
struct CometCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comet",
        abstract: "Run the comet role alone: client connections, gRPC goim.comet.Comet for job, registered in the redis registry."
    )

    @OptionGroup var options: RoleOptions

    func run() async throws {
        try await ProcessSetUp.runRole(config: options.config, logLevel: options.logLevel, label: "herald.comet") { configuration, metrics in
            try CometRoleServer(configuration: configuration, logger: Logger(label: "herald.comet"), metricsText: { metrics.emitToBuffer() })
        }
    }
}

/// `herald logic --config configs/cluster/logic.toml`
struct LogicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logic",
        abstract: "Run the logic role alone: the HTTP push API, gRPC goim.logic.Logic for comets, sessions in redis."
    )

    @OptionGroup var options: RoleOptions

    func run() async throws {
        try await ProcessSetUp.runRole(config: options.config, logLevel: options.logLevel, label: "herald.logic") { configuration, metrics in
            try LogicRoleServer(configuration: configuration, logger: Logger(label: "herald.logic"), metricsText: { metrics.emitToBuffer() })
        }
    }
}

/// `herald job --config configs/cluster/job.toml`
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Run the job role alone: consume the queue and push to the registered comets over gRPC."
    )

    @OptionGroup var options: RoleOptions

    func run() async throws {
        try await ProcessSetUp.runRole(config: options.config, logLevel: options.logLevel, label: "herald.job") { configuration, metrics in
            try JobRoleServer(configuration: configuration, logger: Logger(label: "herald.job"), metricsText: { metrics.emitToBuffer() })
        }
    }
}

/// The options of the separate-process roles.
struct RoleOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Configuration file (TOML), e.g. configs/cluster/comet.toml, logic.toml or job.toml.")
    var config: String

    @Option(name: .long, help: "Log level; overrides [log] level.")
    var logLevel: Logger.Level?
}
