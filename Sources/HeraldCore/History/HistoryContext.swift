public import Logging

/// What a history store factory receives: its `[history.<plugin>]` table, the shared bounds of
/// `[history]`, and the registry (a sharded store places streams with a hash ring).
public struct HistoryContext: Sendable {
    public var name: String
    public var config: ConfigTable
    public var limits: HistoryLimits
    public var logger: Logger
    public var registry: PluginRegistry

    public init(name: String, config: ConfigTable, limits: HistoryLimits, logger: Logger, registry: PluginRegistry) {
        self.name = name
        self.config = config
        self.limits = limits
        self.logger = logger
        self.registry = registry
    }
}

/// How much history every store keeps per stream.
public struct HistoryLimits: Sendable, Hashable {
    /// Messages kept per stream; older ones are trimmed.
    public var maxMessages: Int
    /// How long a message is kept.
    public var maxAge: Duration

    public init(maxMessages: Int = 100, maxAge: Duration = .seconds(600)) {
        self.maxMessages = maxMessages
        self.maxAge = maxAge
    }
}
