import Foundation
import HeraldCore
import HeraldRedis

/// What the comet and process registries share: entries kept as JSON under their own key with a
/// millisecond expiry, listed by a set; reading the list drops the members whose entry expired.
/// Every key of one list lives on the Redis server the ring picks for its set's key, so one
/// pipeline reads the whole list.
extension RedisRouter {
    func registerEntry(_ value: some Encodable, member: String, entryKey: String, setKey: String, ttl: Duration) async throws {
        let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        let ms = String(max(1, ttl.nanoseconds / 1_000_000))
        _ = try await run([
            (setKey, ["SET", entryKey, json, "PX", ms]),
            (setKey, ["SADD", setKey, member]),
        ])
    }

    func deregisterEntry(member: String, entryKey: String, setKey: String) async throws {
        _ = try await run([
            (setKey, ["DEL", entryKey]),
            (setKey, ["SREM", setKey, member]),
        ])
    }

    /// The live entries of `setKey`, in the order of their members' names.
    func registeredEntries<Entry: Decodable>(_ type: Entry.Type, setKey: String, entryKey: (String) -> String) async throws -> [Entry] {
        guard case .array(let replies) = try await run([(setKey, ["SMEMBERS", setKey])])[0] else { return [] }
        let members = replies.compactMap { reply -> String? in
            if case .string(let bytes) = reply { return String(decoding: bytes, as: UTF8.self) }
            return nil
        }.sorted()
        guard !members.isEmpty else { return [] }
        guard case .array(let values) = try await run([(setKey, ["MGET"] + members.map(entryKey))])[0] else { return [] }
        var entries: [Entry] = []
        var expired: [String] = []
        for (member, value) in zip(members, values) {
            if case .string(let bytes) = value, let entry = try? JSONDecoder().decode(Entry.self, from: Data(bytes)) {
                entries.append(entry)
            } else {
                expired.append(member)
            }
        }
        if !expired.isEmpty {
            _ = try? await run([(setKey, ["SREM", setKey] + expired)])
        }
        return entries
    }
}
