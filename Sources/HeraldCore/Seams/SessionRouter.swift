/// A router plugin: the session directory behind logic (goim keeps it in Redis).
///
/// It maps user id → connection keys → comet server, and keeps per-server room online counts.
public protocol SessionRouter: Sendable {
    var name: String { get }

    /// Adds a connection. Several connections per user are kept independently.
    func addMapping(_ mapping: SessionMapping) async throws
    /// Refreshes a connection's expiry. Returns false when the mapping no longer exists.
    func expireMapping(mid: Int64, key: String, server: CometID) async throws -> Bool
    /// Removes a connection. Returns whether it existed.
    func deleteMapping(mid: Int64, key: String, server: CometID) async throws -> Bool
    /// The server of each known key; unknown keys are absent from the result.
    func serversByKeys(_ keys: [String]) async throws -> [String: CometID]
    /// The connections of each user; users with none are absent from the result.
    func sessionsByMids(_ mids: [Int64]) async throws -> [Int64: [SessionMapping]]
    /// Stores one server's room counts.
    func setServerOnline(_ online: ServerOnline) async throws
    /// One server's room counts, if stored.
    func serverOnline(server: CometID) async throws -> ServerOnline?
    /// Forgets one server's room counts.
    func deleteServerOnline(server: CometID) async throws
    func shutdown() async
}

/// A router whose operations complete without suspending (in-process state under a lock).
/// Logic uses it to answer a co-located comet synchronously.
public protocol LocalSessionRouter: SessionRouter {
    func addMappingNow(_ mapping: SessionMapping)
    func deleteMappingNow(mid: Int64, key: String, server: CometID) -> Bool
    /// ``SessionRouter/serversByKeys(_:)`` without suspending.
    func serversByKeysNow(_ keys: [String]) -> [String: CometID]
    /// ``SessionRouter/sessionsByMids(_:)`` without suspending.
    func sessionsByMidsNow(_ mids: [Int64]) -> [Int64: [SessionMapping]]
}
