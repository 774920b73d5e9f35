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
    /// Several pushes by key at once, each as ``push(keys:operation:unit:)`` would deliver it;
    /// returns once the comet accepted all of them. Pushes in one batch have no order among
    /// themselves. A failure may leave some delivered: a retry of the whole batch relies on the
    /// comet dropping what it delivered already (``MessageIdentity``).
    func push(_ batch: [KeyPush]) async throws
    /// Delivers to every connection that accepts `operation`; `speed` limits connections per second
    /// (0 = no limit). A paced broadcast returns when it reached every connection.
    func broadcast(operation: Int32, unit: PushUnit, speed: Int32) async throws
    /// Delivers to every connection in `room` (no op filtering).
    func broadcastRoom(_ room: String, unit: PushUnit) async throws
    /// Ids of the rooms with at least one connection here.
    func rooms() async throws -> [String]
}

extension CometPusher {
    /// The pushes as separate concurrent calls: for a comet that has no batch call (goim's).
    public func push(_ batch: [KeyPush]) async throws { try await pushEach(batch) }

    /// Each push of `batch` as its own ``push(keys:operation:unit:)``, at most 16 at once. Every
    /// push is tried: a failure another call could fix is thrown (the whole batch is retried, and
    /// the comet drops what it delivered already); ``PushRefused`` only when every failure was one.
    public func pushEach(_ batch: [KeyPush]) async throws {
        if batch.count == 1, let only = batch.first {
            return try await push(keys: only.keys, operation: only.operation, unit: only.unit)
        }
        var retryable: (any Error)?
        var refused: PushRefused?
        for start in stride(from: 0, to: batch.count, by: 16) {
            let errors = await withTaskGroup(of: (any Error)?.self) { group in
                for item in batch[start..<min(batch.count, start + 16)] {
                    group.addTask {
                        do {
                            try await self.push(keys: item.keys, operation: item.operation, unit: item.unit)
                            return nil
                        } catch { return error }
                    }
                }
                var errors: [any Error] = []
                for await case let error? in group { errors.append(error) }
                return errors
            }
            for error in errors {
                if let refusal = error as? PushRefused { refused = refused ?? refusal } else { retryable = retryable ?? error }
            }
        }
        if let retryable { throw retryable }
        if let refused { throw refused }
    }
}
