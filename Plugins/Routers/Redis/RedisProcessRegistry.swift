public import HeraldCore

/// The process registry in the session store, beside the comet registry:
/// `herald_process_<role>/<id>` holds the entry as JSON with a millisecond expiry, and the set
/// `herald_processes` lists the keys (``registerEntry(_:member:entryKey:setKey:ttl:)``).
extension RedisRouter: ProcessRegistry {
    private static let processSetKey = "herald_processes"

    private static func processKey(_ key: String) -> String { "herald_process_\(key)" }

    public func register(process node: ProcessNode, ttl: Duration) async throws {
        try await registerEntry(node, member: node.key, entryKey: Self.processKey(node.key), setKey: Self.processSetKey, ttl: ttl)
    }

    public func deregister(processKey key: String) async throws {
        try await deregisterEntry(member: key, entryKey: Self.processKey(key), setKey: Self.processSetKey)
    }

    public func registeredProcesses() async throws -> [ProcessNode] {
        try await registeredEntries(ProcessNode.self, setKey: Self.processSetKey, entryKey: Self.processKey)
            .sorted { ($0.role, $0.id) < ($1.role, $1.id) }
    }
}
