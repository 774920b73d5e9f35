public import HeraldProtocol

/// What logic answers to a comet's `Connect` (goim's `ConnectReply`).
public struct ConnectReply: Sendable, Hashable {
    public var mid: Int64
    public var key: String
    public var roomID: String
    public var platform: String
    public var accepts: [Int32]
    /// How long the comet waits for a client heartbeat before closing the connection.
    public var heartbeat: Duration
    /// What ops 12 and 14 may change; nil: anything (goim's plain tokens).
    public var grants: ClientGrants?

    public init(
        mid: Int64, key: String, roomID: String, platform: String = "", accepts: [Int32], heartbeat: Duration, grants: ClientGrants? = nil
    ) {
        self.mid = mid
        self.key = key
        self.roomID = roomID
        self.platform = platform
        self.accepts = accepts
        self.heartbeat = heartbeat
        self.grants = grants
    }
}

/// Logic as the comet calls it (goim's `goim.logic.Logic` service). In-process in `herald serve`;
/// over gRPC when roles run as separate processes.
public protocol LogicService: Sendable {
    /// Authenticates a connection from its op-7 token and records its mapping.
    func connect(server: CometID, cookie: String, token: [UInt8]) async throws -> ConnectReply
    /// Removes a connection's mapping. Returns whether it existed.
    func disconnect(mid: Int64, key: String, server: CometID) async throws -> Bool
    /// Refreshes a connection's mapping.
    func heartbeat(mid: Int64, key: String, server: CometID) async throws
    /// Stores this server's room counts; returns the global room counts.
    func renewOnline(server: CometID, roomCount: [String: Int32]) async throws -> [String: Int32]
    /// An upstream client message (ops without a meaning in the protocol).
    func receive(mid: Int64, packet: Packet) async throws
}

/// The reason logic refused a connection.
public struct AuthError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A logic that lives in the comet's process and can answer without suspending (the all-in-one
/// gateway on a memory router). The comet then authenticates on the event loop directly, without a
/// task and two thread hops per connection. Returning nil means "use the async path".
public protocol LocalLogicService: LogicService {
    func connectNow(server: CometID, cookie: String, token: [UInt8]) throws -> ConnectReply?
    /// Returns whether the mapping existed, or nil to use the async path.
    func disconnectNow(mid: Int64, key: String, server: CometID) -> Bool?
}
