import HeraldCore
import NIOConcurrencyHelpers

/// The comet's history store, with recoveries that ask for the same read sharing it. When a comet
/// dies, its clients reconnect to another one together, all naming the same room position: without
/// sharing, each of them reads the room's whole tail from the store (10,000 clients, 10,000 copies
/// of it in flight). Here, while one read of (stream, after, limit) is in flight, the recoveries
/// that ask for the same wait, and one read started when it returns serves them all.
///
/// A shared read that fails is read again by each of its waiters on its own, so one error does not
/// fail them all.
///
/// A request never joins a read that started before it asked: the comet holds a recovering
/// connection's live pushes from the moment it asks, so its read must not end before that moment,
/// or what was published in between would be in neither.
final class SharedHistoryReads: HistoryStore {
    private struct Key: Hashable {
        var stream: String
        var after: UInt64
        var limit: Int
    }

    private typealias Waiter = CheckedContinuation<HistoryPage, any Error>

    private let store: any HistoryStore
    /// A key is present while a read of it is in flight; its value is who waits for the next one.
    private let lines = NIOLockedValueBox<[Key: [Waiter]]>([:])

    init(_ store: any HistoryStore) { self.store = store }

    var name: String { store.name }

    func append(to stream: String, operation: Int32, body: [UInt8]) async throws -> StreamPosition {
        try await store.append(to: stream, operation: operation, body: body)
    }

    func shutdown() async { await store.shutdown() }

    func read(_ stream: String, after offset: UInt64, limit: Int) async throws -> HistoryPage {
        let key = Key(stream: stream, after: offset, limit: limit)
        if startLine(key) {
            defer { serveNext(key) }
            return try await store.read(stream, after: offset, limit: limit)
        }
        return try await withCheckedThrowingContinuation { (waiter: Waiter) in
            let ended = lines.withLockedValue { lines in
                if lines[key] == nil {
                    lines[key] = []
                    return true
                }
                lines[key]!.append(waiter)
                return false
            }
            // The read in flight ended meanwhile: this request starts the next one itself.
            guard ended else { return }
            Task {
                do {
                    waiter.resume(returning: try await store.read(stream, after: offset, limit: limit))
                } catch {
                    waiter.resume(throwing: error)
                }
                serveNext(key)
            }
        }
    }

    /// Requests waiting for a next read, over all keys (for tests).
    var waiting: Int { lines.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }

    /// True when no read of `key` was in flight (the caller reads now); false: one is, so wait.
    private func startLine(_ key: Key) -> Bool {
        lines.withLockedValue { lines in
            guard lines[key] == nil else { return false }
            lines[key] = []
            return true
        }
    }

    /// After a read of `key` returned: one new read for everyone who asked meanwhile, or the line ends.
    private func serveNext(_ key: Key) {
        let waiters = lines.withLockedValue { lines in
            let waiting = lines[key] ?? []
            lines[key] = waiting.isEmpty ? nil : []
            return waiting
        }
        guard !waiters.isEmpty else { return }
        Task {
            do {
                let page = try await store.read(key.stream, after: key.after, limit: key.limit)
                for waiter in waiters { waiter.resume(returning: page) }
            } catch {
                // One failed read must not fail them all (a redis hiccup would turn a comet's
                // whole reconnecting crowd into recovered: false): each reads on its own instead.
                for waiter in waiters {
                    Task {
                        do {
                            waiter.resume(returning: try await store.read(key.stream, after: key.after, limit: key.limit))
                        } catch {
                            waiter.resume(throwing: error)
                        }
                    }
                }
            }
            serveNext(key)
        }
    }
}
