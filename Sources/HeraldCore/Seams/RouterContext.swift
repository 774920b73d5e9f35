public import Logging

/// What a router factory receives.
public struct RouterContext: Sendable {
    public var name: String
    public var config: ConfigTable
    public var logger: Logger
    /// Looks up hash rings (a sharded router places keys with one).
    public var registry: PluginRegistry

    public init(name: String, config: ConfigTable, logger: Logger, registry: PluginRegistry) {
        self.name = name
        self.config = config
        self.logger = logger
        self.registry = registry
    }
}
