package import HeraldCore

/// Several Redis servers behind a hash ring, one ``RedisConnection`` each: what the redis router
/// and the redis history store place their keys on. Also reads the settings both share
/// (`addresses`, `ring`, `timeout`).
package final class RedisShards: Sendable {
    /// `addresses`, `ring` and `timeout` of a `[router.redis]` or `[history.redis]` table.
    package struct Settings: Sendable {
        package var addresses: [String]
        package var ring: String
        package var timeout: Duration

        package init(_ table: ConfigTable) throws(ConfigError) {
            addresses = try table.stringArray("addresses", default: ["127.0.0.1:6379"])
            guard !addresses.isEmpty else { throw ConfigError(key: table.keyPath("addresses"), message: "name at least one redis server") }
            for address in addresses { _ = try HostPort.parse(address, key: table.keyPath("addresses")) }
            ring = try table.string("ring", default: "ketama")
            timeout = try table.duration("timeout", default: .seconds(2))
        }
    }

    private let ring: any HashRing
    private let first: String
    private let connections: [String: RedisConnection]

    package init(addresses: [String], ring: any HashRing, timeout: Duration) throws(ConfigError) {
        self.ring = ring
        first = addresses[0]
        var connections: [String: RedisConnection] = [:]
        for address in addresses {
            connections[address] = try RedisConnection(address: address, timeout: timeout)
        }
        self.connections = connections
    }

    /// The connection to the server the ring picks for `key`.
    package func connection(for key: String) -> RedisConnection {
        connections[ring.node(for: key) ?? first]!
    }

    package func close() async {
        for connection in connections.values { await connection.close() }
    }
}
