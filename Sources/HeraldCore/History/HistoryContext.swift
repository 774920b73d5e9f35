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
