import HeraldCore
import Logging
import ServiceLifecycle

/// Keeps this process's entry in the process registry: registers it, renews it every registry
/// interval, removes it on shutdown. A failed write is logged and retried at the next interval.
struct ProcessAnnouncer: Service {
    let registry: any ProcessRegistry
    let role: String
    let configuration: HeraldConfiguration
    let startedAtMillis: Int64
    let logger: Logger

    init(registry: any ProcessRegistry, role: String, configuration: HeraldConfiguration, logger: Logger) {
        self.registry = registry
        self.role = role
        self.configuration = configuration
        self.startedAtMillis = HeraldVersion.millis()
        self.logger = logger
    }

    func node() -> ProcessNode {
        let metrics = configuration.metrics.advertised ?? ""
        return ProcessNode(
            id: configuration.serverID, role: role, version: HeraldVersion.current, startedAtMillis: startedAtMillis,
            renewedAtMillis: HeraldVersion.millis(), metricsAddress: metrics)
    }

    func run() async throws {
        let cluster = configuration.cluster
        let key = node().key
        await cancelWhenGracefulShutdown {
            var failing = false
            while !Task.isCancelled {
                do {
                    try await registry.register(process: node(), ttl: cluster.registryTTL)
                    failing = false
                } catch {
                    if !failing { logger.warning("announcing the process failed; retrying", metadata: ["error": "\(error)"]) }
                    failing = true
                }
                try? await Task.sleep(for: cluster.registryInterval)
            }
        }
        try? await registry.deregister(processKey: key)
    }
}
