import Foundation
public import HeraldCore
import HeraldRedis

/// The process registry in the session store, beside the comet registry: `herald_process_<role>/<id>`
/// holds the entry as JSON with a millisecond expiry, and the set `herald_processes` lists the keys.
/// Every key lives on the Redis server the ring picks for `herald_processes`.
extension RedisRouter: ProcessRegistry {
    private static let processSetKey = "herald_processes"

    private static func processKey(_ key: String) -> String { "herald_process_\(key)" }

    public func register(process node: ProcessNode, ttl: Duration) async throws {
        let json = String(decoding: try JSONEncoder().encode(node), as: UTF8.self)
        let ms = String(max(1, ttl.nanoseconds / 1_000_000))
        _ = try await run([
            (Self.processSetKey, ["SET", Self.processKey(node.key), json, "PX", ms]),
            (Self.processSetKey, ["SADD", Self.processSetKey, node.key]),
        ])
    }

    public func deregister(processKey key: String) async throws {
        _ = try await run([
            (Self.processSetKey, ["DEL", Self.processKey(key)]),
            (Self.processSetKey, ["SREM", Self.processSetKey, key]),
        ])
    }

    public func registeredProcesses() async throws -> [ProcessNode] {
        guard case .array(let members) = try await run([(Self.processSetKey, ["SMEMBERS", Self.processSetKey])])[0] else { return [] }
        let keys = members.compactMap { reply -> String? in
            if case .string(let bytes) = reply { return String(decoding: bytes, as: UTF8.self) }
            return nil
        }.sorted()
        guard !keys.isEmpty else { return [] }
        guard case .array(let entries) = try await run([(Self.processSetKey, ["MGET"] + keys.map(Self.processKey))])[0] else { return [] }
        var nodes: [ProcessNode] = []
        var expired: [String] = []
        for (key, entry) in zip(keys, entries) {
            if case .string(let bytes) = entry, let node = try? JSONDecoder().decode(ProcessNode.self, from: Data(bytes)) {
                nodes.append(node)
            } else {
                expired.append(key)
            }
        }
        if !expired.isEmpty {
            _ = try? await run([(Self.processSetKey, ["SREM", Self.processSetKey] + expired)])
        }
        return nodes.sorted { ($0.role, $0.id) < ($1.role, $1.id) }
    }
}
