public import HeraldCore

/// The comet registry in the session store: `herald_comet_<id>` holds the node as JSON with a
/// millisecond expiry, and the set `herald_comets` lists the ids (``registerEntry(_:member:entryKey:setKey:ttl:)``).
extension RedisRouter: CometRegistry {
    private static let setKey = "herald_comets"

    private static func nodeKey(_ id: String) -> String { "herald_comet_\(id)" }

    public func register(_ node: CometNode, ttl: Duration) async throws {
        try await registerEntry(node, member: node.id.rawValue, entryKey: Self.nodeKey(node.id.rawValue), setKey: Self.setKey, ttl: ttl)
    }

    public func deregister(id: CometID) async throws {
        try await deregisterEntry(member: id.rawValue, entryKey: Self.nodeKey(id.rawValue), setKey: Self.setKey)
    }

    public func registeredComets() async throws -> [CometNode] {
        try await registeredEntries(CometNode.self, setKey: Self.setKey, entryKey: Self.nodeKey)
    }
}
