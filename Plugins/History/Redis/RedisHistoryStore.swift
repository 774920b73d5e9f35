import Foundation
public import HeraldCore
import HeraldRedis
import Logging
import Metrics

/// `redis`: history in Redis, shared by every logic and comet of a split deployment. A stream
/// lives on the Redis server the hash ring picks for its name, in two keys:
///
/// - `hist_<stream>` — a Redis stream (XADD with explicit ids `<offset>-0`, trimmed to
///   `max_messages`), each entry holding the operation (`o`), the body (`b`) and the time (`t`).
/// - `histmeta_<stream>` — a hash with the newest offset (`top`) and the epoch.
///
/// Appends and reads are Lua scripts, so offsets and epochs change atomically with the log. Both
/// keys expire when the stream is idle (`max_age` for the log; twice that, at least a day, for the
/// metadata, so a client that missed nothing in a quiet stream still recovers). A
/// metadata hash that is gone (expired, evicted, a server restarted empty) starts a new epoch and
/// a new log; a log that is gone while its metadata stays reads as trimmed. Either way a client
/// recovering across it is told `recovered: false`, never handed a gap.
public final class RedisHistoryStore: HistoryStore {
    public var name: String { "redis" }
    public let configuration: RedisHistoryConfiguration
    private let limits: HistoryLimits
    private let shards: RedisShards
    private let appended = Counter(label: "herald_history_appended_total", dimensions: [("store", "redis")])

    /// KEYS: log, meta. ARGV: max messages, operation, body, new epoch, time (ms), log ttl (ms), meta ttl (ms).
    static let appendScript = """
        local top = redis.call('HINCRBY', KEYS[2], 'top', 1)
        local epoch = redis.call('HGET', KEYS[2], 'epoch')
        if not epoch then
          epoch = ARGV[4]
          redis.call('HSET', KEYS[2], 'epoch', epoch)
          redis.call('DEL', KEYS[1])
        elseif top == 1 then
          redis.call('DEL', KEYS[1])
        end
        redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], top .. '-0', 'o', ARGV[2], 'b', ARGV[3], 't', ARGV[5])
        redis.call('PEXPIRE', KEYS[1], ARGV[6])
        redis.call('PEXPIRE', KEYS[2], ARGV[7])
        return {top, epoch}
        """

    /// KEYS: log, meta. ARGV: first offset wanted, limit, new epoch, meta ttl (ms).
    /// A stream read before its first message gets its epoch now, so a client that learns it
    /// first and recovers later sees the same one.
    static let readScript = """
        local epoch = redis.call('HGET', KEYS[2], 'epoch')
        if not epoch then
          epoch = ARGV[3]
          redis.call('HSET', KEYS[2], 'epoch', epoch, 'top', 0)
          redis.call('PEXPIRE', KEYS[2], ARGV[4])
          return {0, epoch, {}}
        end
        local top = tonumber(redis.call('HGET', KEYS[2], 'top') or '0')
        local entries = {}
        if tonumber(ARGV[2]) > 0 then
          entries = redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
        end
        return {top, epoch, entries}
        """

    public init(configuration: RedisHistoryConfiguration, limits: HistoryLimits, ring: any HashRing) throws {
        self.configuration = configuration
        self.limits = limits
        shards = try RedisShards(addresses: configuration.addresses, ring: ring, timeout: configuration.timeout)
    }

    /// Registers the store under `redis`; settings from `[history.redis]`.
    public static func register(in registry: inout PluginRegistry) {
        registry.registerHistoryStore("redis") { context in
            let configuration = try RedisHistoryConfiguration(context.config)
            let ring = try context.registry.makeRing(plugin: configuration.ring, nodes: configuration.addresses.map { RingNode(name: $0) })
            return try RedisHistoryStore(configuration: configuration, limits: context.limits, ring: ring)
        }
    }

    private func connection(for stream: String) -> RedisConnection { shards.connection(for: stream) }

    private var maxAgeMilliseconds: Int64 { max(1, Int64(limits.maxAge / .milliseconds(1))) }
    private var metaLifetimeMilliseconds: Int64 { max(2 * maxAgeMilliseconds, 86_400_000) }

    public func append(to stream: String, operation: Int32, body: [UInt8]) async throws -> StreamPosition {
        let now = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        let args: [[UInt8]] = [
            Array("EVAL".utf8), Array(Self.appendScript.utf8), Array("2".utf8),
            Array("hist_\(stream)".utf8), Array("histmeta_\(stream)".utf8),
            Array(String(limits.maxMessages).utf8), Array(String(operation).utf8), body,
            Array(Self.newEpoch().utf8), Array(String(now).utf8),
            Array(String(maxAgeMilliseconds).utf8), Array(String(metaLifetimeMilliseconds).utf8),
        ]
        let connection = connection(for: stream)
        let reply = try await connection.pipeline(bytes: [args])[0]
        guard case .array(let parts) = reply, parts.count == 2, let top = parts[0].integer, top > 0, let epoch = parts[1].text else {
            throw HistoryError("redis \(connection.address): append to \(stream) answered \(reply)")
        }
        appended.increment()
        return StreamPosition(offset: UInt64(top), epoch: epoch)
    }

    public func read(_ stream: String, after offset: UInt64, limit: Int) async throws -> HistoryPage {
        let connection = connection(for: stream)
        let reply = try await connection.pipeline([
            [
                "EVAL", Self.readScript, "2", "hist_\(stream)", "histmeta_\(stream)",
                String(offset < UInt64(Int64.max) ? offset + 1 : offset), String(max(0, limit)), Self.newEpoch(),
                String(metaLifetimeMilliseconds),
            ]
        ])[0]
        guard case .array(let parts) = reply, parts.count == 3, let top = parts[0].integer, top >= 0, let epoch = parts[1].text,
            case .array(let items) = parts[2]
        else {
            throw HistoryError("redis \(connection.address): read of \(stream) answered \(reply)")
        }
        let oldest = UInt64(max(0, Date().timeIntervalSince1970 * 1000)) - UInt64(maxAgeMilliseconds)
        var entries: [HistoryEntry] = []
        for item in items {
            guard let entry = Self.entry(item) else {
                throw HistoryError("redis \(connection.address): \(stream) holds an entry that is not Herald's")
            }
            if entry.time >= oldest { entries.append(entry) }
        }
        return HistoryPage(epoch: epoch, top: UInt64(top), entries: entries)
    }

    /// An XRANGE item: `[id, [field, value, …]]`.
    static func entry(_ item: RedisReply) -> HistoryEntry? {
        guard case .array(let pair) = item, pair.count == 2, let id = pair[0].text, case .array(let fields) = pair[1],
            let offset = UInt64(id.split(separator: "-").first ?? "")
        else { return nil }
        var operation: Int32?
        var body: [UInt8]?
        var time: UInt64 = 0
        var i = 0
        while i + 1 < fields.count {
            switch fields[i].text {
            case "o": operation = fields[i + 1].text.flatMap { Int32($0) }
            case "b": if case .string(let bytes) = fields[i + 1] { body = bytes }
            case "t": time = fields[i + 1].text.flatMap { UInt64($0) } ?? 0
            default: break
            }
            i += 2
        }
        guard let operation, let body else { return nil }
        return HistoryEntry(offset: offset, operation: operation, body: body, time: time)
    }

    public func shutdown() async { await shards.close() }

    static func newEpoch() -> String { HistoryStream.newEpoch() }
}
