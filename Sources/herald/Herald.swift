public import ArgumentParser
import HeraldApp
import HeraldCore
public import Logging
import Metrics
import Prometheus
import UnixSignals

@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Herald: a push gateway that speaks goim's protocol.",
        version: HeraldVersion.current,
        subcommands: [
            Serve.self, RoleCommand<CometRoleServer>.self, RoleCommand<LogicRoleServer>.self, RoleCommand<JobRoleServer>.self, Bench.self,
            RingBench.self, ClientBenchCommand.self, KafkaDevBrokerCommand.self, ZeroMQKeygenCommand.self,
        ],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run comet, logic and job in one process (the embedded default: memory queue and router)."
    )

    @Option(name: .shortAndLong, help: "Configuration file (TOML). Without it the embedded default is used.")
    var config: String?

    @Option(name: .long, help: "Log level (trace, debug, info, notice, warning, error, critical); overrides [log] level.")
    var logLevel: Logger.Level?

    func run() async throws {
        try await ProcessSetUp.runRole(config: config, logLevel: logLevel, label: "herald") { configuration, metrics in
            try HeraldServer(configuration: configuration, metricsText: { metrics.emitToBuffer() })
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// What every long-running subcommand does first: the open-file limit, logging and metrics.
enum ProcessSetUp {
    static func bootstrap(_ configuration: inout HeraldConfiguration, logLevel: Logger.Level?) -> PrometheusCollectorRegistry {
        raiseOpenFileLimit()
        let level = logLevel ?? configuration.logLevel
        configuration.logLevel = level
        let json = configuration.logFormat == "json"
        LiveLogLevel.set(level)
        LoggingSystem.bootstrap { label in
            var base: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            base.logLevel = .trace  // the level is LiveLogLevel's, which SIGHUP can change
            return LiveLogLevel(base)
        }
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets["herald_room_batch_bytes"] = [64, 256, 1024, 4096, 16384, 32768, 65536, 262_144]
        factory.durationHistogramBuckets["herald_publish_to_deliver_seconds"] = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// What every role subcommand does: reads `config` (the embedded default without one), sets
    /// up the process, builds the role with `make` (a configuration error is the command's usage
    /// error), reloads it on SIGHUP and runs it until SIGTERM or SIGINT.
    static func runRole(
        config: String?,
        logLevel: Logger.Level?,
        label: String,
        make: (HeraldConfiguration, PrometheusCollectorRegistry) throws -> any RoleProcess
    ) async throws {
        var configuration = try config.map(load) ?? HeraldConfiguration.embeddedDefault()
        let metrics = bootstrap(&configuration, logLevel: logLevel)
        if configuration.tasksOnEventLoops {
            let installed = EventLoopExecutor.install(threads: configuration.threads)
            Logger(label: label).notice(
                installed
                    ? "swift tasks run on the event loops ([server] tasks_on_event_loops)"
                    : "[server] tasks_on_event_loops is not supported here: swift tasks keep their own thread pool")
        }
        let role: any RoleProcess
        do {
            role = try make(configuration, metrics)
        } catch {
            throw ValidationError("\(error)")
        }
        let reloader = await reloadOnHangup(config, logger: Logger(label: label)) { next in
            var next = next
            if let logLevel { next.logLevel = logLevel }  // --log-level outlasts a reload of the file
            _ = try await role.reload(next)
        }
        defer { reloader.cancel() }
        try await role.run(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// Traps SIGHUP — call it before anything listens, so an early one reloads instead of ending
    /// the process — and on each one re-reads `path` and hands it to `apply`. A configuration that
    /// cannot be read or applied is logged and the running settings stay.
    static func reloadOnHangup(
        _ path: String?,
        logger: Logger,
        apply: @escaping @Sendable (HeraldConfiguration) async throws -> Void
    ) async -> Task<Void, Never> {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        return Task {
            for await _ in hangups {
                guard let path else {
                    logger.warning("SIGHUP ignored: running on the embedded default, no configuration file to re-read")
                    continue
                }
                do {
                    try await apply(HeraldConfiguration.load(path: path))
                } catch {
                    logger.error("configuration reload refused; the running settings stay", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    static func load(_ path: String) throws -> HeraldConfiguration {
        do {
            return try HeraldConfiguration.load(path: path)
        } catch {
            throw ValidationError("configuration: \(error)")
        }
    }
}
