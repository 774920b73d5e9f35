public import HeraldCore
import HeraldHistoryMemory
import HeraldHistoryRedis
import HeraldQueueKafka
import HeraldQueueMemory
import HeraldQueueMigration
import HeraldQueueZeroMQ
import HeraldRing
import HeraldRouterMemory
import HeraldRouterRedis
import HeraldTransportLongPoll
import HeraldTransportSSE
import HeraldTransportTCP
import HeraldTransportWebSocket

/// The plugins that ship with Herald. A new plugin is one more registration line here
/// (or in your own executable that links Herald's modules).
public enum BuiltInPlugins {
    public static func registry() -> PluginRegistry {
        var registry = PluginRegistry()
        TCPTransport.register(in: &registry)
        WebSocketTransport.register(in: &registry)
        LongPollTransport.register(in: &registry)
        SSETransport.register(in: &registry)
        MemoryQueue.register(in: &registry)
        KafkaQueue.register(in: &registry)
        ZeroMQQueue.register(in: &registry)
        MigrationQueue.register(in: &registry)
        MemoryRouter.register(in: &registry)
        RedisRouter.register(in: &registry)
        BuiltInRings.register(in: &registry)
        MemoryHistoryStore.register(in: &registry)
        RedisHistoryStore.register(in: &registry)
        return registry
    }
}
