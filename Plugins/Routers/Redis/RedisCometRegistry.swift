import Foundation
public import HeraldCore
import HeraldRedis

/// The comet registry in the session store: `herald_comet_<id>` holds the node as JSON with a
/// millisecond expiry, and the set `herald_comets` lists the ids. Every registry key lives on the
/// Redis server the ring picks for `herald_comets`, so one pipeline reads the whole list.
extension RedisRouter: CometRegistry {
    private static let setKey = "herald_comets"

    private static func nodeKey(_ id: CometID) -> String { "herald_comet_\(id)" }

    public func register(_ node: CometNode, ttl: Duration) async throws {
        let json = String(decoding: try JSONEncoder().encode(node), as: UTF8.self)
        let ms = String(max(1, ttl.nanoseconds / 1_000_000))
        _ = try await run([
            (Self.setKey, ["SET", Self.nodeKey(node.id), json, "PX", ms]),
            (Self.setKey, ["SADD", Self.setKey, node.id.rawValue]),
        ])
    }

    public func deregister(id: CometID) async throws {
        _ = try await run([
            (Self.setKey, ["DEL", Self.nodeKey(id)]),
            (Self.setKey, ["SREM", Self.setKey, id.rawValue]),
        ])
    }

    public func registeredComets() async throws -> [CometNode] {
        guard case .array(let members) = try await run([(Self.setKey, ["SMEMBERS", Self.setKey])])[0] else { return [] }
        let ids = members.compactMap { reply -> String? in
            if case .string(let bytes) = reply { return String(decoding: bytes, as: UTF8.self) }
            return nil
        }.sorted()
        guard !ids.isEmpty else { return [] }
        let values = try await run([(Self.setKey, ["MGET"] + ids.map { Self.nodeKey(CometID($0)) })])[0]
        guard case .array(let entries) = values else { return [] }
        var nodes: [CometNode] = []
        var expired: [String] = []
        for (id, entry) in zip(ids, entries) {
            if case .string(let bytes) = entry, let node = try? JSONDecoder().decode(CometNode.self, from: Data(bytes)) {
                nodes.append(node)
            } else {
                expired.append(id)
            }
        }
        if !expired.isEmpty {
            _ = try? await run([(Self.setKey, ["SREM", Self.setKey] + expired)])
        }
        return nodes
    }
}
