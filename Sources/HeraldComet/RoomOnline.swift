import NIOConcurrencyHelpers

/// Room online counts: the local count per room (this comet) and the global count logic returns.
final class RoomOnline: Sendable {
    private struct Counts {
        var local: [String: Int32] = [:]
        var global: [String: Int32] = [:]
    }

    private let counts = NIOLockedValueBox(Counts())

    /// Counts a member of `room`. A room this comet does not have yet is refused (false) when it
    /// already has `limit` rooms (0 = no limit).
    func join(_ room: String, limit: Int = 0) -> Bool {
        counts.withLockedValue { c in
            if let n = c.local[room] {
                c.local[room] = n + 1
                return true
            }
            guard limit == 0 || c.local.count < limit else { return false }
            c.local[room] = 1
            return true
        }
    }

    func leave(_ room: String) {
        counts.withLockedValue {
            let n = ($0.local[room] ?? 1) - 1
            $0.local[room] = n > 0 ? n : nil
        }
    }

    /// What a heartbeat reply reports: the global count when logic gave one, else the local count.
    func count(_ room: String) -> Int32 {
        counts.withLockedValue { c in
            if let g = c.global[room], g > 0 { return g }
            return c.local[room] ?? 0
        }
    }

    func localCounts() -> [String: Int32] { counts.withLockedValue { $0.local } }

    func setGlobal(_ global: [String: Int32]) { counts.withLockedValue { $0.global = global } }
}

/// Distinct client IP addresses with at least one authenticated connection.
final class IPCounter: Sendable {
    private let counts = NIOLockedValueBox<[String: Int]>([:])

    func add(_ ip: String?) {
        guard let ip else { return }
        counts.withLockedValue { $0[ip, default: 0] += 1 }
    }

    func remove(_ ip: String?) {
        guard let ip else { return }
        counts.withLockedValue {
            let n = ($0[ip] ?? 1) - 1
            $0[ip] = n > 0 ? n : nil
        }
    }

    var distinct: Int { counts.withLockedValue { $0.count } }
}
