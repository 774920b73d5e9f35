public import HeraldCore

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
        addresses = try table.stringArray("addresses", default: ["127.0.0.1:6379"])
        guard !addresses.isEmpty else { throw ConfigError(key: table.keyPath("addresses"), message: "name at least one redis server") }
        for address in addresses { _ = try HostPort.parse(address, key: table.keyPath("addresses")) }
        ring = try table.string("ring", default: "ketama")
        expire = try table.duration("expire", default: .seconds(30 * 60))
        timeout = try table.duration("timeout", default: .seconds(2))
    }
}
