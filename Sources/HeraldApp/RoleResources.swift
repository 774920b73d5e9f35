import HeraldCore
import NIOConcurrencyHelpers
import NIOCore

/// What a role process releases once its services stopped: its logic client, the plugins'
/// connections, then the event loops it owns.
struct RoleResources: Sendable {
    var logicClient: ReloadableLogicClient? = nil
    var queue: (any QueueBackend)? = nil
    var router: (any SessionRouter)? = nil
    var history: (any HistoryStore)? = nil
    /// Shut down last (nil: the role does not own its event loops).
    var eventLoopGroup: (any EventLoopGroup)? = nil

    func release() async {
        await logicClient?.close()
        await queue?.shutdown()
        await router?.shutdown()
        await history?.shutdown()
        // The process-wide group that also runs the tasks (``EventLoopExecutor``) lives as long as the process.
        if !EventLoopExecutor.isInstalled { try? await eventLoopGroup?.shutdownGracefully() }
    }

    /// Collects the resources while a role's initializer builds them. If the initializer throws
    /// before ``finish()`` — a refused setting, a port that is not allowed — nothing runs yet and
    /// `deinit` releases what was built, so a refused start leaves no threads or connections.
    final class Builder: Sendable {
        private let state: NIOLockedValueBox<(resources: RoleResources, finished: Bool)>

        init(eventLoopGroup: (any EventLoopGroup)?) {
            state = NIOLockedValueBox((RoleResources(eventLoopGroup: eventLoopGroup), false))
        }

        func keep(_ client: ReloadableLogicClient) -> ReloadableLogicClient {
            state.withLockedValue { $0.resources.logicClient = client }
            return client
        }

        func keep(_ queue: any QueueBackend) -> any QueueBackend {
            state.withLockedValue { $0.resources.queue = queue }
            return queue
        }

        func keep(_ router: any SessionRouter) -> any SessionRouter {
            state.withLockedValue { $0.resources.router = router }
            return router
        }

        func keep(_ history: (any HistoryStore)?) -> (any HistoryStore)? {
            state.withLockedValue { $0.resources.history = history }
            return history
        }

        /// What was built, now the runtime's to release once the services stopped.
        func finish() -> RoleResources {
            state.withLockedValue { s in
                s.finished = true
                return s.resources
            }
        }

        deinit {
            let (resources, finished) = state.withLockedValue { ($0.resources, $0.finished) }
            guard !finished else { return }
            // Nothing was scheduled on these event loops yet; the plugins close their connections
            // on their own time. A role is built from the main task or a test, never on an event
            // loop thread, where a synchronous shutdown would trap.
            if !EventLoopExecutor.isInstalled { try? resources.eventLoopGroup?.syncShutdownGracefully() }
            var plugins = resources
            plugins.eventLoopGroup = nil
            Task { await plugins.release() }
        }
    }
}
