import HeraldCore
import NIOConcurrencyHelpers

/// One shard of the key → connection index (goim's bucket). Buckets are chosen by a stable
/// FNV-1a hash of the key, so lookups for different keys rarely contend.
final class KeyBucket: @unchecked Sendable {
    private let lock = NIOLock()
    private var sessions: [String: CometSession] = [:]

    /// Registers `session` under `key`; returns the connection it replaces, if any.
    func put(_ key: String, _ session: CometSession) -> CometSession? {
        lock.withLock {
            let old = sessions.updateValue(session, forKey: key)
            return old === session ? nil : old
        }
    }

    /// Removes `key` only if it still points at `session` (a replacement keeps its entry).
    func remove(_ key: String, ifIdenticalTo session: CometSession) {
        lock.withLock {
            if sessions[key] === session { sessions[key] = nil }
        }
    }

    func get(_ key: String) -> CometSession? {
        lock.withLock { sessions[key] }
    }

    var count: Int { lock.withLock { sessions.count } }

    /// FNV-1a (32-bit): stable across processes and runs, unlike `Hasher`.
    static func hash(_ key: String) -> UInt32 { FNV1a.hash32(key) }
}
