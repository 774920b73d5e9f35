public import Logging

/// What a queue factory receives.
public struct QueueContext: Sendable {
    public var name: String
    public var config: ConfigTable
    public var logger: Logger
    /// Looks up other registered queue plugins (used by composite backends such as a migration).
    public var registry: PluginRegistry

    public init(name: String, config: ConfigTable, logger: Logger, registry: PluginRegistry) {
        self.name = name
        self.config = config
        self.logger = logger
        self.registry = registry
    }
}
