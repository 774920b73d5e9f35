public import Foundation
public import Logging

/// One client connection in the session directory.
public struct SessionMapping: Sendable, Hashable {
    public var mid: Int64
    public var key: String
    public var server: String
    public var platform: String

    public init(mid: Int64, key: String, server: String, platform: String = "") {
        self.mid = mid
        self.key = key
        self.server = server
        self.platform = platform
    }
}

/// Room online counts reported by one comet server.
public struct ServerOnline: Sendable, Hashable {
    public var server: String
    public var roomCount: [String: Int32]
    public var updated: Date

    public init(server: String, roomCount: [String: Int32], updated: Date = Date()) {
        self.server = server
        self.roomCount = roomCount
        self.updated = updated
    }
}

/// A router plugin: the session directory behind logic (goim keeps it in Redis).
///
/// It maps user id → connection keys → comet server, and keeps per-server room online counts.
public protocol SessionRouter: Sendable {
    var name: String { get }

    /// Adds a connection. Several connections per user are kept independently.
    func addMapping(_ mapping: SessionMapping) async throws
    /// Refreshes a connection's expiry. Returns false when the mapping no longer exists.
    func expireMapping(mid: Int64, key: String, server: String) async throws -> Bool
    /// Removes a connection. Returns whether it existed.
    func deleteMapping(mid: Int64, key: String, server: String) async throws -> Bool
    /// The server of each known key; unknown keys are absent from the result.
    func serversByKeys(_ keys: [String]) async throws -> [String: String]
    /// The connections of each user; users with none are absent from the result.
    func sessionsByMids(_ mids: [Int64]) async throws -> [Int64: [SessionMapping]]
    /// Stores one server's room counts.
    func setServerOnline(_ online: ServerOnline) async throws
    /// One server's room counts, if stored.
    func serverOnline(server: String) async throws -> ServerOnline?
    /// Forgets one server's room counts.
    func deleteServerOnline(server: String) async throws
    func shutdown() async
}

/// What a router factory receives.
public struct RouterContext: Sendable {
    public var name: String
    public var config: ConfigTable
    public var logger: Logger
    /// Looks up hash rings (a sharded router places keys with one).
    public var registry: PluginRegistry

    public init(name: String, config: ConfigTable, logger: Logger, registry: PluginRegistry) {
        self.name = name
        self.config = config
        self.logger = logger
        self.registry = registry
    }
}

/// A router whose operations complete without suspending (in-process state under a lock).
/// Logic uses it to answer a co-located comet synchronously.
public protocol LocalSessionRouter: SessionRouter {
    func addMappingNow(_ mapping: SessionMapping)
    func deleteMappingNow(mid: Int64, key: String, server: String) -> Bool
}

/// A router failure with a message fit for the API's -500 answer.
public struct RouterError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
