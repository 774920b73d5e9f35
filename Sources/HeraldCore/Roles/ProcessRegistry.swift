/// Where every process of a split deployment announces itself, with a time to live, renewed:
/// logic, job and comet alike (comets also keep their ``CometNode`` in the ``CometRegistry``,
/// which job routes by). The console reads it. Provided by the session store (the `redis` router).
public protocol ProcessRegistry: Sendable {
    /// Registers or renews `node` for `ttl`.
    func register(process node: ProcessNode, ttl: Duration) async throws
    /// Removes the entry at once (a process shutting down cleanly).
    func deregister(processKey key: String) async throws
    /// The processes whose registration has not expired, ordered by role and id.
    func registeredProcesses() async throws -> [ProcessNode]
}
