import HeraldCore
import NIOConcurrencyHelpers
import Testing

@testable import HeraldComet

@Suite("SharedHistoryReads", .timeLimit(.minutes(1)))
struct SharedHistoryReadsTests {
    /// A store whose reads take a snapshot when they start and then wait until the test lets them
    /// go: the only way to hold a read in flight at a chosen moment (a real store answers too fast
    /// to interleave with). Entries live in memory; reads numbered in `failing` (1 = the first to
    /// start) throw.
    final class GatedStore: HistoryStore {
        struct State {
            var entries: [HistoryEntry] = []
            var readsStarted = 0
            var allowed = 0
            var parked: [CheckedContinuation<Void, Never>] = []
            var failing: Set<Int> = []
        }

        struct Refused: Error {}

        let state = NIOLockedValueBox(State())
        var name: String { "gated" }
        var readsStarted: Int { state.withLockedValue { $0.readsStarted } }

        func append(to stream: String, operation: Int32, body: [UInt8]) async throws -> StreamPosition {
            state.withLockedValue { s in
                let offset = UInt64(s.entries.count + 1)
                s.entries.append(HistoryEntry(offset: offset, operation: operation, body: body, time: 0))
                return StreamPosition(offset: offset, epoch: "e")
            }
        }

        func read(_ stream: String, after offset: UInt64, limit: Int) async throws -> HistoryPage {
            let (number, snapshot) = state.withLockedValue { s in
                s.readsStarted += 1
                return (s.readsStarted, s.entries)
            }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let go = state.withLockedValue { s in
                    if s.allowed > 0 {
                        s.allowed -= 1
                        return true
                    }
                    s.parked.append(c)
                    return false
                }
                if go { c.resume() }
            }
            if state.withLockedValue({ $0.failing.contains(number) }) { throw Refused() }
            return HistoryPage(
                epoch: "e", top: snapshot.last?.offset ?? 0, entries: Array(snapshot.filter { $0.offset > offset }.prefix(limit)))
        }

        /// Lets `count` reads (parked now or later) finish.
        func release(_ count: Int) {
            let go = state.withLockedValue { s in
                s.allowed += count
                let n = min(s.allowed, s.parked.count)
                s.allowed -= n
                defer { s.parked.removeFirst(n) }
                return Array(s.parked.prefix(n))
            }
            for c in go { c.resume() }
        }

        func shutdown() async {}
    }

    static func storeWithThreeEntries() async throws -> GatedStore {
        let store = GatedStore()
        for i in 1...3 { _ = try await store.append(to: "room:x", operation: 1000, body: [UInt8(i)]) }
        return store
    }

    /// Yields until `condition` holds; false after 10 s (a failsafe so a broken sharing fails the
    /// test instead of hanging it).
    private func until(_ condition: () -> Bool) async -> Bool {
        let giveUp = ContinuousClock.now + .seconds(10)
        while !condition() {
            if ContinuousClock.now > giveUp { return false }
            await Task.yield()
        }
        return true
    }

    @Test(
        "recoveries that ask while a read is in flight share one read started after they asked: they see what was appended before, and the store is read twice, not 51 times"
    )
    func askersShareTheNextRead() async throws {
        let store = try await Self.storeWithThreeEntries()
        let shared = SharedHistoryReads(store)

        let first = Task { try await shared.read("room:x", after: 0, limit: 100) }
        try #require(await until { store.readsStarted >= 1 })
        // Published after the first read took its snapshot, before the others ask.
        _ = try await store.append(to: "room:x", operation: 1000, body: [4])
        let later = (0..<50).map { _ in Task { try await shared.read("room:x", after: 0, limit: 100) } }
        try #require(await until { shared.waiting == 50 })
        #expect(store.readsStarted == 1, "the 50 wait; none has read yet")
        store.release(1000)

        #expect(try await first.value.entries.map(\.offset) == [1, 2, 3])
        for task in later {
            #expect(try await task.value.entries.map(\.offset) == [1, 2, 3, 4], "a shared read started after this request")
        }
        #expect(store.readsStarted == 2)
        #expect(shared.waiting == 0)
    }

    @Test("reads of another stream or from another offset are not held up by a read in flight")
    func otherKeysReadAtOnce() async throws {
        let store = try await Self.storeWithThreeEntries()
        let shared = SharedHistoryReads(store)
        let first = Task { try await shared.read("room:x", after: 0, limit: 100) }
        try #require(await until { store.readsStarted >= 1 })
        let other = Task { try await shared.read("room:x", after: 2, limit: 100) }
        let started = await until { store.readsStarted >= 2 }
        #expect(started, "a different offset starts its own read")
        #expect(shared.waiting == 0)
        store.release(1000)
        #expect(try await first.value.entries.count == 3)
        #expect(try await other.value.entries.map(\.offset) == [3])
    }

    @Test("a request made while the shared read is in flight waits for the next one, which sees what was appended before it asked")
    func secondGeneration() async throws {
        let store = try await Self.storeWithThreeEntries()
        let shared = SharedHistoryReads(store)
        let first = Task { try await shared.read("room:x", after: 0, limit: 100) }
        try #require(await until { store.readsStarted >= 1 })
        _ = try await store.append(to: "room:x", operation: 1000, body: [4])
        let early = (0..<5).map { _ in Task { try await shared.read("room:x", after: 0, limit: 100) } }
        try #require(await until { shared.waiting == 5 })
        store.release(1)  // the first read returns; the shared read for the five starts
        try #require(await until { store.readsStarted >= 2 })
        #expect(try await first.value.entries.map(\.offset) == [1, 2, 3])
        _ = try await store.append(to: "room:x", operation: 1000, body: [5])
        let late = (0..<5).map { _ in Task { try await shared.read("room:x", after: 0, limit: 100) } }
        try #require(await until { shared.waiting == 5 })
        store.release(1000)
        for task in early { #expect(try await task.value.entries.map(\.offset) == [1, 2, 3, 4]) }
        for task in late { #expect(try await task.value.entries.map(\.offset) == [1, 2, 3, 4, 5], "not the read in flight when it asked") }
        #expect(store.readsStarted == 3)
    }

    @Test("a shared read that fails is read again by each waiter on its own: one error does not fail them all")
    func failedSharedRead() async throws {
        let store = try await Self.storeWithThreeEntries()
        store.state.withLockedValue { $0.failing = [2] }
        let shared = SharedHistoryReads(store)
        let first = Task { try await shared.read("room:x", after: 0, limit: 100) }
        try #require(await until { store.readsStarted >= 1 })
        let waiters = (0..<5).map { _ in Task { try await shared.read("room:x", after: 0, limit: 100) } }
        try #require(await until { shared.waiting == 5 })
        store.release(1000)
        #expect(try await first.value.entries.count == 3)
        for task in waiters { #expect(try await task.value.entries.count == 3, "read again after the shared read failed") }
        #expect(store.readsStarted == 7, "1 first, 1 shared that failed, 5 on their own")
    }
}
