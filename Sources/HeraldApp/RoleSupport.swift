import HeraldCore
import HeraldLogic
import HeraldTLS
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// What the separate-process roles share.
enum RoleSupport {
    /// The `[router]` plugin, which must also keep the comet registry (the `redis` router does).
    /// The history store of a role that shares it with other processes (logic appends, comets
    /// replay): the memory store lives in one process and is refused, naming the key.
    static func sharedHistoryStore(
        _ configuration: HeraldConfiguration, plugins: PluginRegistry, logger: Logger
    ) throws -> (any HistoryStore)? {
        guard configuration.history.enabled else { return nil }
        guard configuration.history.store != "memory" else {
            throw ConfigError(
                key: "history.store",
                message: "the memory store lives in one process; the logic and comets of a split deployment share history through redis"
            )
        }
        return try configuration.makeHistoryStore(registry: plugins, logger: logger)
    }

    /// The process's event loops: `[server] threads`, or one per core.
    static func eventLoopGroup(_ configuration: HeraldConfiguration) -> MultiThreadedEventLoopGroup {
        if EventLoopExecutor.isInstalled { return MultiThreadedEventLoopGroup.singleton }
        return MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads > 0 ? configuration.threads : System.coreCount)
    }

    /// The HTTP push API of a process that runs logic, and the latch its bound address is
    /// published on.
    static func api(
        _ logic: Logic, _ configuration: HeraldConfiguration, eventLoopGroup: any EventLoopGroup, tls: TLSContextSource?,
        metricsText: (@Sendable () -> [UInt8])?, role: String = "serve", cluster: ConsoleCluster? = nil, logger: Logger
    ) -> (service: any Service, bound: ReadyLatch<SocketAddress?>) {
        let bound = ReadyLatch<SocketAddress?>()
        let service = LogicHTTPAPI.makeApplication(
            logic: logic,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            security: configuration.logic.tls ? tls : nil,
            metricsText: metricsText,
            serverID: configuration.serverID,
            role: role,
            cluster: cluster,
            onBound: { bound.publish($0) }
        )
        return (service, bound)
    }

    static func registryRouter(_ configuration: HeraldConfiguration, plugins: PluginRegistry, logger: Logger) throws -> any SessionRouter {
        let router = try plugins.makeRouter(
            plugin: configuration.routerPlugin,
            context: RouterContext(name: configuration.routerPlugin, config: configuration.routerTable, logger: logger, registry: plugins)
        )
        guard router is any CometRegistry else {
            Task { await router.shutdown() }  // built, but refused: nothing else will release it
            throw ConfigError(
                key: "router.plugin",
                message: "the \(configuration.routerPlugin) router cannot keep the comet registry that separate processes share; use redis"
            )
        }
        return router
    }

    /// The service that keeps this process in the process registry the `redis` router keeps
    /// (nil for a router without one).
    static func announcer(_ configuration: HeraldConfiguration, role: String, router: any SessionRouter, logger: Logger) -> [any Service] {
        guard let registry = router as? any ProcessRegistry else { return [] }
        return [ProcessAnnouncer(registry: registry, role: role, configuration: configuration, logger: logger)]
    }

    /// Logic's and job's view of the registry that `router` (from ``registryRouter``) keeps.
    static func registryWatcher(_ configuration: HeraldConfiguration, router: any SessionRouter, logger: Logger) -> RegistryWatcher {
        RegistryWatcher(
            registry: router as! any CometRegistry,
            interval: configuration.cluster.registryInterval,
            ttl: configuration.cluster.registryTTL,
            policy: configuration.cluster.policy,
            credentials: configuration.cluster.credentials,
            logger: logger
        )
    }
}
