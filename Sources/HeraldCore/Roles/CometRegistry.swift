/// Where comets announce themselves when the roles run as separate processes: each comet
/// registers its ``CometNode`` (id, gRPC address, public addresses, weight, connection count) with a
/// time to live and renews it; logic and job read the list. A comet that stops renewing drops out
/// when its entry expires. Provided by the session store (the `redis` router), so a cluster needs
/// no discovery service of its own.
public protocol CometRegistry: Sendable {
    /// Registers or renews `node` for `ttl`.
    func register(_ node: CometNode, ttl: Duration) async throws
    /// Removes `id` at once (a comet shutting down cleanly).
    func deregister(id: CometID) async throws
    /// The comets whose registration has not expired.
    func registeredComets() async throws -> [CometNode]
}
