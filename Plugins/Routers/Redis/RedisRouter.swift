import Foundation
public import HeraldCore
import HeraldRedis
public import Logging

/// The `redis` router plugin: goim's session directory in Redis, sharded over several servers by
/// a hash ring.
///
/// Layout (goim's, so goim's logic can read it): `mid_<mid>` is a hash of key → server,
/// `key_<key>` holds the server; both expire after `expire` unless a heartbeat refreshes them.
/// Herald adds `plat_<mid>` (key → platform, for platform-filtered pushes) and keeps a server's room
/// counts in the hash `ol_<server>` (room → count). Each Redis key lives on the server the ring
/// picks for it. Every write is one atomic Redis command per key, so two devices of one user that
/// connect at once both stay mapped.
public final class RedisRouter: SessionRouter {
    public let name: String
    public let configuration: RedisRouterConfiguration
    private let shards: RedisShards
    private let logger: Logger

    /// Deletes a mapping only if it still points at the server that asks (a reconnect elsewhere wins).
    private static let deleteIfServer = """
        local n = 0
        if redis.call('GET', KEYS[1]) == ARGV[1] then n = redis.call('DEL', KEYS[1]) end
        return n
        """
    private static let hdelIfServer = """
        if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
          redis.call('HDEL', KEYS[2], ARGV[1])
          return redis.call('HDEL', KEYS[1], ARGV[1])
        end
        return 0
        """

    public init(name: String = "redis", configuration: RedisRouterConfiguration, ring: any HashRing, logger: Logger) throws {
        self.name = name
        self.configuration = configuration
        self.logger = logger
        shards = try RedisShards(addresses: configuration.addresses, ring: ring, timeout: configuration.timeout)
    }

    /// Registers the plugin under `redis`; settings from `[router.redis]`.
    public static func register(in registry: inout PluginRegistry) {
        registry.registerRouter("redis") { context in
            let configuration = try RedisRouterConfiguration(context.config)
            let ring = try context.registry.makeRing(plugin: configuration.ring, nodes: configuration.addresses.map { RingNode(name: $0) })
            return try RedisRouter(name: context.name, configuration: configuration, ring: ring, logger: context.logger)
        }
    }

    private var expireSeconds: String { String(max(1, configuration.expire.nanoseconds / 1_000_000_000)) }

    /// The connection holding Redis key `key`.
    private func server(for key: String) -> RedisConnection { shards.connection(for: key) }

    /// Runs commands grouped by the server of their first Redis key, one pipeline per server,
    /// and returns the replies in the order given.
    func run(_ commands: [(key: String, args: [String])]) async throws -> [RedisReply] {
        var groups: [String: (connection: RedisConnection, indices: [Int])] = [:]
        for (i, c) in commands.enumerated() {
            let connection = server(for: c.key)
            groups[connection.address, default: (connection, [])].indices.append(i)
        }
        var replies = [RedisReply](repeating: .null, count: commands.count)
        try await withThrowingTaskGroup(of: ([Int], [RedisReply]).self) { group in
            for (connection, indices) in groups.values {
                group.addTask { (indices, try await connection.pipeline(indices.map { commands[$0].args })) }
            }
            for try await (indices, got) in group {
                for (i, r) in zip(indices, got) {
                    if case .error(let message) = r { throw RouterError("redis \(address(of: commands[i].key)): \(message)") }
                    replies[i] = r
                }
            }
        }
        return replies
    }

    private func address(of key: String) -> String { server(for: key).address }

    public func addMapping(_ mapping: SessionMapping) async throws {
        let ttl = expireSeconds
        var commands: [(key: String, args: [String])] = [
            ("key_\(mapping.key)", ["SET", "key_\(mapping.key)", mapping.server.rawValue, "EX", ttl])
        ]
        if mapping.mid > 0 {
            let mid = "mid_\(mapping.mid)"
            // plat_<mid> is placed with mid_<mid> (same ring key) so both change on one server.
            commands += [
                (mid, ["HSET", mid, mapping.key, mapping.server.rawValue]),
                (mid, ["EXPIRE", mid, ttl]),
                (mid, ["HSET", "plat_\(mapping.mid)", mapping.key, mapping.platform]),
                (mid, ["EXPIRE", "plat_\(mapping.mid)", ttl]),
            ]
        }
        _ = try await run(commands)
    }

    public func expireMapping(mid: Int64, key: String, server: CometID) async throws -> Bool {
        let ttl = expireSeconds
        var commands: [(key: String, args: [String])] = [("key_\(key)", ["EXPIRE", "key_\(key)", ttl])]
        if mid > 0 {
            commands += [("mid_\(mid)", ["EXPIRE", "mid_\(mid)", ttl]), ("mid_\(mid)", ["EXPIRE", "plat_\(mid)", ttl])]
        }
        return try await run(commands)[0].integer == 1
    }

    public func deleteMapping(mid: Int64, key: String, server: CometID) async throws -> Bool {
        var commands: [(key: String, args: [String])] = [
            ("key_\(key)", ["EVAL", Self.deleteIfServer, "1", "key_\(key)", server.rawValue])
        ]
        if mid > 0 {
            commands.append(("mid_\(mid)", ["EVAL", Self.hdelIfServer, "2", "mid_\(mid)", "plat_\(mid)", key, server.rawValue]))
        }
        return try await run(commands)[0].integer == 1
    }

    public func serversByKeys(_ keys: [String]) async throws -> [String: CometID] {
        let unique = Array(Set(keys))
        let replies = try await run(unique.map { ("key_\($0)", ["GET", "key_\($0)"]) })
        var result: [String: CometID] = [:]
        for (key, reply) in zip(unique, replies) { if let server = reply.text { result[key] = CometID(server) } }
        return result
    }

    public func sessionsByMids(_ mids: [Int64]) async throws -> [Int64: [SessionMapping]] {
        let unique = Array(Set(mids.filter { $0 > 0 }))
        var commands: [(key: String, args: [String])] = []
        for mid in unique {
            commands.append(("mid_\(mid)", ["HGETALL", "mid_\(mid)"]))
            commands.append(("mid_\(mid)", ["HGETALL", "plat_\(mid)"]))
        }
        let replies = try await run(commands)
        var result: [Int64: [SessionMapping]] = [:]
        for (i, mid) in unique.enumerated() {
            let servers = replies[2 * i].pairs
            let platforms = replies[2 * i + 1].pairs
            guard !servers.isEmpty else { continue }
            result[mid] = servers.keys.sorted().map { key in
                SessionMapping(mid: mid, key: key, server: CometID(servers[key]!), platform: platforms[key] ?? "")
            }
        }
        return result
    }

    public func setServerOnline(_ online: ServerOnline) async throws {
        let key = "ol_\(online.server)"
        var hset = ["HSET", key, "_updated", String(Int(online.updated.timeIntervalSince1970))]
        for (room, count) in online.roomCount.sorted(by: { $0.key < $1.key }) { hset += [Self.roomField(room), String(count)] }
        // Replaced atomically: readers never see half of an old and half of a new report.
        _ = try await run([
            (key, ["MULTI"]), (key, ["DEL", key]), (key, hset), (key, ["EXPIRE", key, expireSeconds]), (key, ["EXEC"]),
        ])
    }

    public func serverOnline(server: CometID) async throws -> ServerOnline? {
        let key = "ol_\(server)"
        var fields = try await run([(key, ["HGETALL", key])])[0].pairs
        guard let updated = fields.removeValue(forKey: "_updated").flatMap(Double.init) else { return nil }
        var rooms: [String: Int32] = [:]
        for (field, count) in fields { rooms[Self.room(field: field)] = Int32(count) ?? 0 }
        return ServerOnline(server: server, roomCount: rooms, updated: Date(timeIntervalSince1970: updated))
    }

    /// A room's field in the `ol_` hash. Fields starting with `_` are the report's own (`_updated`),
    /// so a room whose name starts with `_` is stored with one more: a client's room name cannot
    /// overwrite the report's time or be read as it.
    static func roomField(_ room: String) -> String { room.hasPrefix("_") ? "_" + room : room }

    static func room(field: String) -> String { field.hasPrefix("__") ? String(field.dropFirst()) : field }

    public func deleteServerOnline(server: CometID) async throws {
        _ = try await run([("ol_\(server)", ["DEL", "ol_\(server)"])])
    }

    public func shutdown() async { await shards.close() }
}
