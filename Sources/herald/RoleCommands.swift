import ArgumentParser
import HeraldApp
import Logging

/// A role that runs as its own process: `herald comet`, `herald logic`, `herald job`.
protocol SplitRole: RoleProcess {
    static var commandName: String { get }
    static var abstract: String { get }
    static func make(_ configuration: HeraldConfiguration, logger: Logger, metricsText: @escaping @Sendable () -> [UInt8]) throws -> Self
}

/// `herald <role> --config configs/cluster/<role>.toml`
struct RoleCommand<Role: SplitRole>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Role.commandName, abstract: Role.abstract)
    }

    @Option(name: .shortAndLong, help: "Configuration file (TOML), e.g. configs/cluster/comet.toml, logic.toml or job.toml.")
    var config: String

    @Option(name: .long, help: "Log level; overrides [log] level.")
    var logLevel: Logger.Level?

    func run() async throws {
        let label = "herald.\(Role.commandName)"
        try await ProcessSetUp.runRole(config: config, logLevel: logLevel, label: label) { configuration, metrics in
            try Role.make(configuration, logger: Logger(label: label), metricsText: { metrics.emitToBuffer() })
        }
    }
}

extension CometRoleServer: SplitRole {
    static let commandName = "comet"
    static let abstract = "Run the comet role alone: client connections, gRPC goim.comet.Comet for job, registered in the redis registry."
    static func make(_ configuration: HeraldConfiguration, logger: Logger, metricsText: @escaping @Sendable () -> [UInt8]) throws -> Self {
        try Self(configuration: configuration, logger: logger, metricsText: metricsText)
    }
}

extension LogicRoleServer: SplitRole {
    static let commandName = "logic"
    static let abstract = "Run the logic role alone: the HTTP push API, gRPC goim.logic.Logic for comets, sessions in redis."
    static func make(_ configuration: HeraldConfiguration, logger: Logger, metricsText: @escaping @Sendable () -> [UInt8]) throws -> Self {
        try Self(configuration: configuration, logger: logger, metricsText: metricsText)
    }
}

extension JobRoleServer: SplitRole {
    static let commandName = "job"
    static let abstract = "Run the job role alone: consume the queue and push to the registered comets over gRPC."
    static func make(_ configuration: HeraldConfiguration, logger: Logger, metricsText: @escaping @Sendable () -> [UInt8]) throws -> Self {
        try Self(configuration: configuration, logger: logger, metricsText: metricsText)
    }
}
