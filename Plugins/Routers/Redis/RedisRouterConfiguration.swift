public import HeraldCore
import HeraldRedis

/// The `[router.redis]` settings.
public struct RedisRouterConfiguration: Sendable {
    /// Redis servers, `host:port`; each Redis key lives on the one the ring picks.
    public var addresses: [String]
    /// The hash ring placing keys on servers (`ketama`, `jump`, `rendezvous`).
    public var ring: String
    /// Expiry of a connection's mapping, refreshed by its heartbeats (goim's `redis.expire`).
    public var expire: Duration
    /// Connect and command timeout.
    public var timeout: Duration

    public init(_ table: ConfigTable) throws(ConfigError) {
        let shards = try RedisShards.Settings(table)
        (addresses, ring, timeout) = (shards.addresses, shards.ring, shards.timeout)
        expire = try table.duration("expire", default: .seconds(30 * 60))
    }
}
