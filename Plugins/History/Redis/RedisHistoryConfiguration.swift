public import HeraldCore

/// The `[history.redis]` settings.
public struct RedisHistoryConfiguration: Sendable {
    /// Redis servers, `host:port`; each stream lives on the one the ring picks for its name.
    public var addresses: [String]
    /// The hash ring placing streams on servers (`ketama`, `jump`, `rendezvous`).
    public var ring: String
    /// Connect and command timeout.
    public var timeout: Duration

    public init(_ table: ConfigTable) throws(ConfigError) {
        addresses = try table.stringArray("addresses", default: ["127.0.0.1:6379"])
        guard !addresses.isEmpty else { throw ConfigError(key: table.keyPath("addresses"), message: "name at least one redis server") }
        for address in addresses { _ = try HostPort.parse(address, key: table.keyPath("addresses")) }
        ring = try table.string("ring", default: "ketama")
        timeout = try table.duration("timeout", default: .seconds(2))
    }
}
