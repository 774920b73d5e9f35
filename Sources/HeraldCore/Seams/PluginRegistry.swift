/// The name-keyed registry of plugins. The executable registers the built-in plugins; the
/// configuration picks them by name.
public struct PluginRegistry: Sendable {
    public typealias TransportFactory = @Sendable (TransportContext) throws -> any Transport
    public typealias QueueFactory = @Sendable (QueueContext) throws -> any QueueBackend
    public typealias RouterFactory = @Sendable (RouterContext) throws -> any SessionRouter
    public typealias RingFactory = @Sendable ([RingNode]) -> any HashRing
    public typealias HistoryFactory = @Sendable (HistoryContext) throws -> any HistoryStore

    private var transports: [String: TransportFactory] = [:]
    private var queues: [String: QueueFactory] = [:]
    private var routers: [String: RouterFactory] = [:]
    private var rings: [String: RingFactory] = [:]
    private var histories: [String: HistoryFactory] = [:]

    public init() {}

    public mutating func registerTransport(_ name: String, _ factory: @escaping TransportFactory) {
        transports[name] = factory
    }

    public mutating func registerQueue(_ name: String, _ factory: @escaping QueueFactory) {
        queues[name] = factory
    }

    public mutating func registerRouter(_ name: String, _ factory: @escaping RouterFactory) {
        routers[name] = factory
    }

    public mutating func registerRing(_ name: String, _ factory: @escaping RingFactory) {
        rings[name] = factory
    }

    public mutating func registerHistoryStore(_ name: String, _ factory: @escaping HistoryFactory) {
        histories[name] = factory
    }

    public var transportNames: [String] { transports.keys.sorted() }
    public var queueNames: [String] { queues.keys.sorted() }
    public var routerNames: [String] { routers.keys.sorted() }
    public var ringNames: [String] { rings.keys.sorted() }
    public var historyStoreNames: [String] { histories.keys.sorted() }

    public func makeTransport(plugin: String, context: TransportContext) throws -> any Transport {
        guard let factory = transports[plugin] else { throw PluginError(kind: "transport", name: plugin, registered: transportNames) }
        return try factory(context)
    }

    public func makeQueue(plugin: String, context: QueueContext) throws -> any QueueBackend {
        guard let factory = queues[plugin] else { throw PluginError(kind: "queue", name: plugin, registered: queueNames) }
        return try factory(context)
    }

    public func makeRouter(plugin: String, context: RouterContext) throws -> any SessionRouter {
        guard let factory = routers[plugin] else { throw PluginError(kind: "router", name: plugin, registered: routerNames) }
        return try factory(context)
    }

    public func makeHistoryStore(plugin: String, context: HistoryContext) throws -> any HistoryStore {
        guard let factory = histories[plugin] else { throw PluginError(kind: "history store", name: plugin, registered: historyStoreNames) }
        return try factory(context)
    }

    public func makeRing(plugin: String, nodes: [RingNode]) throws -> any HashRing {
        guard let factory = rings[plugin] else { throw PluginError(kind: "ring", name: plugin, registered: ringNames) }
        return factory(nodes)
    }
}

/// A configuration named a plugin that is not registered.
public struct PluginError: Error, Hashable, Sendable, CustomStringConvertible {
    public var kind: String
    public var name: String
    public var registered: [String]

    public var description: String {
        "unknown \(kind) plugin \"\(name)\"; registered \(kind) plugins: \(registered.isEmpty ? "(none)" : registered.joined(separator: ", "))"
    }
}
