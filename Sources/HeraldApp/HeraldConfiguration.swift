import Foundation
public import HeraldComet
public import HeraldCore
public import HeraldJob
public import HeraldLogic
public import HeraldTLS
public import Logging

/// The whole configuration of one Herald process, read from TOML (see docs/configuration.md).
public struct HeraldConfiguration: Sendable {
    /// One configured transport instance: `[transport.<name>]`, plugin `plugin` (default: the name).
    public struct TransportEntry: Sendable {
        public var name: String
        public var plugin: String
        public var table: ConfigTable
    }

    public var serverID: String
    public var logLevel: Logger.Level
    /// `text` (swift-log's stream format) or `json` (one object per line).
    public var logFormat: String
    public var comet: CometConfiguration
    public var logic: LogicConfiguration
    public var job: JobConfiguration
    public var queuePlugin: String
    public var queueTable: ConfigTable
    /// The backend per message class (`[queue] push`, `room`, `broadcast`; default `plugin`).
    public var queueClasses: (push: String, room: String, broadcast: String)
    /// The settings of every backend in use, by plugin name.
    public var queueTables: [String: ConfigTable]
    public var routerPlugin: String
    public var routerTable: ConfigTable
    public var transports: [TransportEntry]
    /// Event loop threads for connections and the API (0 = one per core).
    public var threads: Int
    /// `[server] tasks_on_event_loops`: a `herald` process runs its Swift tasks on its event loops
    /// instead of a separate thread pool (see ``EventLoopExecutor``).
    public var tasksOnEventLoops: Bool
    /// `[tls]`: the certificate of listeners with `tls = true`.
    public var tls: TLSSettings?
    /// `[rpc]` and `[registry]`: the roles as separate processes.
    public var cluster: ClusterSettings
    /// `[history]`: messages kept for clients that were away (off by default).
    public var history: HistorySettings
    /// `[metrics]`: a `GET /metrics` listener of this process's own (off by default).
    public var metrics: MetricsSettings
    /// The document this was read from; its ``ConfigKeyLog`` records what the process asked for
    /// (``checkKeys(logger:)``), and a reload compares documents key by key.
    public var document: ConfigTable

    public init(table root: ConfigTable) throws {
        document = root
        let server = try root.table("server")
        serverID = try server.string("id").flatMap { $0.isEmpty ? nil : $0 } ?? ProcessInfo.processInfo.hostName
        threads = try server.int("threads", default: 0, in: 0...1024)
        tasksOnEventLoops = try server.bool("tasks_on_event_loops", default: true)
        let levelText = try root.table("log").choice(
            "level",
            default: "info",
            allowed: Logger.Level.allCases.map(\.rawValue)
        )
        logLevel = Logger.Level(rawValue: levelText)!
        logFormat = try root.table("log").choice("format", default: "text", allowed: ["text", "json"])
        comet = try CometConfiguration(serverID: CometID(serverID), table: root.table("comet"))
        logic = try LogicConfiguration(table: root.table("logic"))
        job = try JobConfiguration(table: root.table("job"))
        comet.limits.maxBodySize = max(comet.limits.maxBodySize, 16)
        tls = try TLSSettings(table: root.table("tls"))
        cluster = try ClusterSettings(rpc: root.table("rpc"), registry: root.table("registry"), tls: tls)
        if logic.tls && tls == nil {
            throw ConfigError(key: "logic.tls", message: "TLS needs [tls] certificate_file and private_key_file")
        }

        history = try HistorySettings(table: root.table("history"))
        metrics = try MetricsSettings(table: root.table("metrics"))

        let queue = try root.table("queue")
        _ = queue.tableNames  // [queue.<plugin>]: read by the plugins in use
        queuePlugin = try queue.string("plugin", default: "memory")
        queueTable = try queue.table(queuePlugin)
        queueClasses = (
            push: try queue.string("push", default: queuePlugin),
            room: try queue.string("room", default: queuePlugin),
            broadcast: try queue.string("broadcast", default: queuePlugin)
        )
        var tables: [String: ConfigTable] = [:]
        for plugin in Set([queuePlugin, queueClasses.push, queueClasses.room, queueClasses.broadcast]) {
            tables[plugin] = try queue.table(plugin)
        }
        queueTables = tables

        let router = try root.table("router")
        _ = router.tableNames
        routerPlugin = try router.string("plugin", default: "memory")
        routerTable = try router.table(routerPlugin)

        var transports: [TransportEntry] = []
        let transportRoot: ConfigTable
        if root.contains("transport") {
            transportRoot = try root.table("transport")
        } else {
            transportRoot = ConfigTable(
                path: "transport",
                values: [
                    "tcp": .table(ConfigTable(path: "transport.tcp")),
                    "websocket": .table(ConfigTable(path: "transport.websocket")),
                    "longpoll": .table(ConfigTable(path: "transport.longpoll")),
                ])
        }
        for name in transportRoot.keys {
            let table = try transportRoot.table(name)
            guard try table.bool("enabled", default: true) else {
                table.acceptUnread()
                continue
            }
            transports.append(TransportEntry(name: name, plugin: try table.string("plugin", default: name), table: table))
        }
        self.transports = transports
    }

    /// The history store `[history]` names, or nil when history is off.
    public func makeHistoryStore(registry: PluginRegistry, logger: Logger) throws -> (any HistoryStore)? {
        guard history.enabled else { return nil }
        return try registry.makeHistoryStore(
            plugin: history.store,
            context: HistoryContext(
                name: history.store, config: history.storeTable, limits: history.limits, logger: logger, registry: registry)
        )
    }

    /// The embedded default: memory queue and router, tcp on 3101, websocket on 3102, long-poll on 3104, API on 3111.
    public static func embeddedDefault() throws -> HeraldConfiguration {
        try HeraldConfiguration(table: ConfigTable())
    }

    /// Reads a TOML file.
    public static func load(path: String) throws -> HeraldConfiguration {
        try HeraldConfiguration(table: ConfigLoader.load(path: path))
    }

    /// Parses TOML text.
    public static func parse(_ text: String) throws -> HeraldConfiguration {
        try HeraldConfiguration(table: ConfigLoader.parse(text))
    }
}
