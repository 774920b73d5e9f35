public import HeraldCore
import HeraldRedis

/// The `[history.redis]` settings.
public struct RedisHistoryConfiguration: Sendable {
    /// Redis servers, `host:port`; each stream lives on the one the ring picks for its name.
    public var addresses: [String]
    /// The hash ring placing streams on servers (`ketama`, `jump`, `rendezvous`).
    public var ring: String
    /// Connect and command timeout.
    public var timeout: Duration

    public init(_ table: ConfigTable) throws(ConfigError) {
        let shards = try RedisShards.Settings(table)
        (addresses, ring, timeout) = (shards.addresses, shards.ring, shards.timeout)
    }
}
