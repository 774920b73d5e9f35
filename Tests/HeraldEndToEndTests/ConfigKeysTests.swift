import Foundation
import HeraldApp
import HeraldCore
import HeraldProtocol
import HeraldTesting
import Logging
import NIOPosix
import Testing

/// Unknown configuration keys are refused with the nearest known key, and a reload reports every
/// key it changed as applied or as needing a restart — against servers built from real TOML.
@Suite("configuration keys")
struct ConfigKeysTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let base = """
        [log]
        level = "error"
        [logic]
        listen = "127.0.0.1:0"
        [transport.tcp]
        listen = ["127.0.0.1:0"]

        """

    /// Builds (does not run) a server from `toml` on the shared event loops; releases its queue and
    /// router afterwards. Returns the configuration and what building it threw.
    static func build(_ toml: String) async throws -> (HeraldConfiguration, (any Error)?) {
        let configuration = try HeraldConfiguration.parse(toml)
        do {
            let server = try HeraldServer(configuration: configuration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
            await server.queue.shutdown()
            await server.router.shutdown()
            return (configuration, nil)
        } catch {
            return (configuration, error)
        }
    }

    @Test(
        "an unknown key, or a section named after no plugin, fails start-up naming its full path and the nearest known name",
        arguments: [
            ("[comet]\nhandshake_timout = \"5s\"", "comet.handshake_timout", "handshake_timeout"),
            ("[comte]\nmax_rooms = 1", "comte", "comet"),
            ("[logic.auth]\nmod = \"jwt\"", "logic.auth.mod", "mode"),
            ("[transport.ws]\nplugin = \"websocket\"\nlisten = [\"127.0.0.1:0\"]\npaht = \"/sub\"", "transport.ws.paht", "path"),
            (
                "[router]\nplugin = \"redis\"\n[router.redis]\naddresses = [\"127.0.0.1:1\"]\ntimout = \"1s\"", "router.redis.timout",
                "timeout"
            ),
            (
                "[queue]\nplugin = \"zeromq\"\n[queue.zeromq]\nbind = \"inproc://herald-keys-unknown\"\nsend_hvm = 10",
                "queue.zeromq.send_hvm", "send_hwm"
            ),
            ("[queue.kafak]\nbrokers = [\"127.0.0.1:9\"]", "queue.kafak", "kafka"),
            ("[router.rediss]\naddresses = [\"127.0.0.1:1\"]", "router.rediss", "redis"),
        ]
    )
    func unknownKeyRefused(extra: String, key: String, nearest: String) async throws {
        let (_, error) = try await Self.build(Self.base + extra)
        let refused = try #require(error as? ConfigError, "start-up refused: \(String(describing: error))")
        #expect(refused.key == key)
        #expect(refused.message.contains("did you mean \"\(nearest)\""), "\(refused)")
    }

    @Test(
        "herald logic and herald job accept the comets' transport sections of a shared file and refuse an unknown key, naming it",
        arguments: ["logic", "job"]
    )
    func roleProcessRefusesUnknownKey(role: String) async throws {
        let binary = HeraldChild.root.appendingPathComponent(".build/debug/herald").path
        try #require(
            FileManager.default.isExecutableFile(atPath: binary), "build the executable first (swift build --build-tests builds it)")
        let name = "herald-keys-\(role)-\(UUID().uuidString.prefix(8))"
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).toml")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).log")
        defer {
            try? FileManager.default.removeItem(at: config)
            try? FileManager.default.removeItem(at: log)
        }
        try
            (Self.base + """
                [transport.tcp.unused_by_logic_and_job]
                [transport.websocket]
                listen = ["127.0.0.1:0"]
                path = "/sub"
                [router]
                plugin = "redis"
                [router.redis]
                addresses = ["127.0.0.1:1"]
                [job]
                comet_in_fligt = 8
                """).write(to: config, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [role, "--config", config.path]
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Polled, not waited for: a test does not block a thread of the shared pool.
        let exited = await eventually(timeout: .seconds(30)) { !process.isRunning }
        if !exited { process.terminate() }
        try output.close()
        let printed = try String(contentsOf: log, encoding: .utf8)
        #expect(exited && process.terminationStatus != 0, "start-up refused: \(printed)")
        #expect(printed.contains(#"job.comet_in_fligt: unknown key in [job]; did you mean "comet_in_flight"?"#), "\(printed)")
        #expect(!printed.contains("unknown key in [transport"), "the transports are the comets' to judge: \(printed)")
    }

    @Test(
        "herald job reloads a file shared with the comets: a transport or comet change is not its to judge or report; its own changes are reported"
    )
    func roleReloadOfSharedFile() async throws {
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        var logger = Logger(label: "test.keys")
        logger.logLevel = .error
        let file = { (extra: String) in
            Self.base + """
                [router]
                plugin = "redis"
                [router.redis]
                addresses = ["\(redis.addresses[0])"]
                [registry]
                ttl = "2s"
                interval = "200ms"
                [job]
                \(extra)
                """
        }
        let job = try JobRoleServer(configuration: .parse(file("")), logger: logger)
        let running = Task { try await job.run(gracefulShutdownSignals: []) }
        let shared =
            file("comet_in_flight = 8").replacingOccurrences(of: "[transport.tcp]\n", with: "[transport.tcp]\nnodelay = false\n")
            + "\n[comet]\nmax_rooms = 3\n"
        let report = try await job.reload(HeraldConfiguration.parse(shared))
        #expect(report == ReloadReport(applied: [], needsRestart: ["job.comet_in_flight"]), "\(report)")
        await #expect {
            try await job.reload(HeraldConfiguration.parse(file("comet_in_fligt = 8")))
        } throws: { error in
            (error as? ConfigError)?.key == "job.comet_in_fligt"
        }
        await job.shutdown()
        try await running.value
    }

    @Test("sections this process does not read, disabled transports and librdkafka pass-through tables are accepted")
    func unreadSectionsAccepted() async throws {
        let (configuration, error) = try await Self.build(
            Self.base + """
                [queue.kafka]
                brokers = ["127.0.0.1:9"]
                a_key_only_kafka_would_judge = 1
                [transport.sse]
                enabled = false
                a_key_of_a_disabled_transport = 1
                """)
        #expect(error == nil, "\(String(describing: error))")
        let report = ConfigKeyCheck.check(configuration.document, known: configuration.document.log!.asked)
        #expect(report.unknown.isEmpty)
        #expect(report.unused == ["queue.kafka"], "the kafka section is not read while the queue is memory")

        let (_, passThrough) = try await Self.build(
            Self.base + """
                [queue]
                plugin = "kafka"
                [queue.kafka]
                dev_broker = true
                [queue.kafka.properties]
                "socket.keepalive.enable" = true
                """)
        #expect(passThrough == nil, "\(String(describing: passThrough))")
    }

    /// Every key the code asks for, gathered from servers that build every built-in plugin.
    static func catalogue() async throws -> Set<String> {
        let transports = """
            [log]
            level = "error"
            [logic]
            listen = "127.0.0.1:0"
            [router]
            plugin = "redis"
            [transport.tcp]
            listen = ["127.0.0.1:0"]
            [transport.websocket]
            listen = ["127.0.0.1:0"]
            [transport.longpoll]
            listen = "127.0.0.1:0"
            [transport.sse]
            listen = "127.0.0.1:0"

            """
        var known: Set<String> = []
        for queue in [
            "[queue]\nplugin = \"kafka\"\n[queue.kafka]\ndev_broker = true",
            "[queue]\nplugin = \"zeromq\"\n[queue.zeromq]\nbind = \"inproc://herald-keys-catalogue\"",
            "[queue]\nplugin = \"migration\"\n[queue.migration]\nprimary = \"memory\"\nsecondary = \"zeromq\"\n[queue.migration.zeromq]\nbind = \"inproc://herald-keys-catalogue-2\"",
        ] {
            let (configuration, error) = try await build(transports + queue)
            #expect(error == nil, "\(String(describing: error))")
            known.formUnion(configuration.document.log!.asked)
        }
        // A migration's backends read their plugin's keys under [queue.migration.<plugin>], the
        // same keys as at [queue.<plugin>].
        for plugin in ["kafka", "zeromq", "memory"] {
            for path in known {
                for (from, to) in [("queue.\(plugin)", "queue.migration.\(plugin)"), ("queue.migration.\(plugin)", "queue.\(plugin)")]
                where path == from || path.hasPrefix(from + ".") {
                    known.insert(to + path.dropFirst(from.count))
                }
            }
        }
        return known
    }

    @Test("the shipped configuration files set no unknown key")
    func shippedConfigsKnown() async throws {
        let known = try await Self.catalogue()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for file in ["herald", "kafka", "zeromq", "migration", "cluster/comet", "cluster/logic", "cluster/job"] {
            // The cluster files' secret path is relative to the working directory; point it into this test's directory.
            let text = try String(contentsOf: Self.root.appendingPathComponent("configs/\(file).toml"), encoding: .utf8)
                .replacingOccurrences(
                    of: #"secret_file = "configs/cluster/rpc-secret""#, with: #"secret_file = "\#(directory.path)/rpc-secret""#)
            // Parsed as a process would: the plugin sections it names are accepted as sections.
            let configuration = try HeraldConfiguration.parse(text)
            let report = ConfigKeyCheck.check(configuration.document, known: known.union(configuration.document.log!.asked))
            #expect(report.unknown.isEmpty, "configs/\(file).toml: \(report.unknown)")
        }
    }

    @Test("docs/configuration.md documents exactly the keys the code reads")
    func documentedKeysAreRead() async throws {
        let known = try await Self.catalogue()
        let documented = try ConfigurationDoc(Self.root.appendingPathComponent("docs/configuration.md"))
        // A table is a prefix of another key; what remains are the values one sets.
        let leaves = known.filter { path in path.contains(".") && !known.contains { $0.hasPrefix(path + ".") } }
        // The [queue.migration.<plugin>] copies are documented once, at [queue.<plugin>].
        let read = leaves.filter { path in !["kafka", "zeromq", "memory"].contains { path.hasPrefix("queue.migration.\($0).") } }
        let undocumented = read.subtracting(documented.rows).subtracting(documented.prose).sorted()
        #expect(undocumented.isEmpty, "read by the code, not in docs/configuration.md: \(undocumented)")
        let unread = documented.rows.subtracting(read).sorted()
        #expect(unread.isEmpty, "documented in docs/configuration.md's tables, read by no code: \(unread)")
    }

    @Test("a reload reports each changed key as applied or needing a restart; a file with an unknown key is refused and changes nothing")
    func reloadReportsEveryKey() async throws {
        try await withGateway { g in
            let changed = gatewayTOML(
                comet: """
                    max_rooms = 5
                    slow_consumer = "disconnect"
                    outbound_buffer_bytes = 131072
                    """, job: "comet_in_flight = 8", handshake: "7s"
            )
            .replacingOccurrences(of: "level = \"warning\"", with: "level = \"error\"")
            let report = try await g.server.reload(HeraldConfiguration.parse(changed))
            #expect(report.applied == ["comet.max_rooms", "log.level"], "\(report)")
            #expect(
                report.needsRestart == [
                    "comet.handshake_timeout", "comet.outbound_buffer_bytes", "comet.slow_consumer", "job.comet_in_flight",
                ], "\(report)")

            // A transport added since start-up: its plugin never read its section, so its keys
            // need a restart (they are judged when it starts), not a refusal.
            let added = try await g.server.reload(
                HeraldConfiguration.parse(changed + "\n[transport.tcp2]\nplugin = \"tcp\"\nlisten = [\"127.0.0.1:0\"]\n"))
            #expect(added == ReloadReport(applied: [], needsRestart: ["transport.tcp2.listen", "transport.tcp2.plugin"]), "\(added)")

            // A typo next to a live key: the file is refused, max_connections = 1 is not applied.
            let typo = gatewayTOML(comet: "max_connections = 1\nmax_roms = 1")
            await #expect {
                try await g.server.reload(HeraldConfiguration.parse(typo))
            } throws: { error in
                (error as? ConfigError)?.key == "comet.max_roms" && "\(error)".contains("did you mean \"max_rooms\"")
            }
            let a = try await g.client(.tcp, AuthToken(mid: 1, accepts: [1000]))
            let b = try await g.client(.tcp, AuthToken(mid: 2, accepts: [1000]))
            #expect(g.closes["too_many_connections", default: 0] == 0, "the refused file's max_connections did not apply")
            for c in [a, b] { await c.close() }
        }
    }
}

/// The keys docs/configuration.md documents: in its tables (`rows`), and in its prose (`prose`:
/// keys named in a paragraph that starts with a backticked section, and backticked `[tables]`).
struct ConfigurationDoc {
    var rows: Set<String> = []
    var prose: Set<String> = []

    init(_ url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        var section: String?
        var genericTransport = false
        var paragraphSection: String?
        var previous = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let ticks = Self.backticked(line)
            for token in ticks where token.hasPrefix("[") && token.hasSuffix("]") && !token.contains("<") {
                prose.insert(String(token.dropFirst().dropLast()))
            }
            if line.hasPrefix("#") {
                let name = ticks.first { $0.hasPrefix("[") }.map { String($0.dropFirst().dropLast()) }
                genericTransport = name?.contains("<") ?? false
                section = genericTransport ? nil : name
                paragraphSection = nil
                continue
            }
            defer { previous = line }
            if line.isEmpty { paragraphSection = nil; continue }
            if previous.isEmpty, line.hasPrefix("`["), let first = ticks.first, !first.contains("<") {
                section = String(first.dropFirst().dropLast())
                paragraphSection = section
                genericTransport = false
            }
            if let paragraphSection, !line.hasPrefix("|") {
                for token in ticks where token.allSatisfy({ $0.isLowercase || $0 == "_" }) {
                    prose.insert("\(paragraphSection).\(token)")
                }
            }
            guard line.hasPrefix("| `") else { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let keys = Self.backticked(cells[1])
            if genericTransport {
                let applies = cells[2]
                let names = applies.hasPrefix("all") ? ["tcp", "websocket", "longpoll", "sse"] : applies.components(separatedBy: ", ")
                for name in names { for key in keys { rows.insert("transport.\(name).\(key)") } }
            } else if let section {
                for key in keys { rows.insert(key.contains(".") ? key : "\(section).\(key)") }
            }
        }
    }

    static func backticked(_ line: String) -> [String] {
        line.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }
}
