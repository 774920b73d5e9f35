/// A comet as the job calls it (goim's `goim.comet.Comet` service). In-process in `herald serve`;
/// over gRPC when roles run as separate processes (where goim's op-9 envelope carries the unit).
///
/// Each call returns once the comet accepted the unit: it was handed to the connections' writers
/// (or dropped there as already delivered). The job acknowledges a queue message only then.
public protocol CometPusher: Sendable {
    /// The server id this comet registered with (the `server` of mappings).
    var serverID: CometID { get }
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
