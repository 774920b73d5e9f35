/// A comet as the job calls it (goim's `goim.comet.Comet` service). In-process in `herald serve`;
/// over gRPC when roles run as separate processes (where goim's op-9 envelope carries the unit).
///
/// Each call returns once the comet accepted the unit: it was handed to the connections' writers
/// (or dropped there as already delivered). The job acknowledges a queue message only then.
public protocol CometPusher: Sendable {
    /// The server id this comet registered with (the `server` of mappings).
    var serverID: String { get }
    /// Delivers to the connections with these keys that accept `operation`.
    func push(keys: [String], operation: Int32, unit: PushUnit) async throws
    /// Delivers to every connection that accepts `operation`; `speed` limits connections per second
    /// (0 = no limit). A paced broadcast returns when it reached every connection.
    func broadcast(operation: Int32, unit: PushUnit, speed: Int32) async throws
    /// Delivers to every connection in `room` (no op filtering).
    func broadcastRoom(_ room: String, unit: PushUnit) async throws
    /// Ids of the rooms with at least one connection here.
    func rooms() async throws -> [String]
}

/// The comets a job pushes to, by server id.
public protocol CometDirectory: Sendable {
    func comets() async -> [String: any CometPusher]
    /// Returns once the directory knows which comets exist (a cluster's registry was read once),
    /// so a job never takes "no comets" for an answer it could acknowledge messages on. Returns
    /// early only when the task is cancelled.
    func ready() async
    /// The comets after a fresh look at the directory (at most a few times a second): what the job
    /// asks before it gives up on a comet it does not know, which may have just registered.
    func refreshedComets() async -> [String: any CometPusher]
}

extension CometDirectory {
    public func ready() async {}
    public func refreshedComets() async -> [String: any CometPusher] { await comets() }
}

/// A comet node as logic reports it (`/goim/nodes/instances`, `/goim/online/total`).
public struct CometNode: Sendable, Hashable, Codable {
    public var id: String
    public var addresses: [String]
    public var weight: Int
    public var connectionCount: Int
    public var ipCount: Int
    /// The comet's gRPC address (`host:port`), which job calls; empty in the all-in-one process.
    public var rpcAddress: String

    public init(id: String, addresses: [String], weight: Int = 10, connectionCount: Int = 0, ipCount: Int = 0, rpcAddress: String = "") {
        self.id = id
        self.addresses = addresses
        self.weight = weight
        self.connectionCount = connectionCount
        self.ipCount = ipCount
        self.rpcAddress = rpcAddress
    }
}

/// Where logic learns which comet nodes exist.
public protocol NodeDirectory: Sendable {
    func nodes() async -> [CometNode]
    /// The ids of the comets alive now, when the directory knows (a cluster's registry); nil when
    /// every mapping's server is alive by construction (the all-in-one process).
    func liveServers() async -> Set<String>?
}

extension NodeDirectory {
    public func liveServers() async -> Set<String>? { nil }
}
