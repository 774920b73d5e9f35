import HeraldCore
import HeraldHistoryMemory
import Testing

@Suite("MemoryHistoryStore")
struct MemoryHistoryStoreTests {
    let t0: UInt64 = 1_000_000

    @Test("offsets start at 1 and grow by 1 per stream; streams are independent")
    func offsets() {
        let store = MemoryHistoryStore(limits: HistoryLimits(maxMessages: 10, maxAge: .seconds(60)), maxBytes: 1 << 20)
        let a1 = store.appendNow(to: "a", operation: 1, body: [1], now: t0)
        let a2 = store.appendNow(to: "a", operation: 1, body: [2], now: t0)
        let b1 = store.appendNow(to: "b", operation: 1, body: [3], now: t0)
        #expect([a1.offset, a2.offset, b1.offset] == [1, 2, 1])
        #expect(a1.epoch == a2.epoch)
        let page = store.readNow("a", after: 1, limit: 10, now: t0)
        #expect(page.entries.map(\.body) == [[2]])
        #expect(page.top == 2)
        #expect(page.covers(after: 1, epoch: a1.epoch))
        #expect(!page.covers(after: 1, epoch: "another"), "another epoch's offsets mean nothing here")
        #expect(page.covers(after: 0, epoch: "") == false, "offset 1 is in the page only when read from 0")
        #expect(store.readNow("a", after: 0, limit: 10, now: t0).covers(after: 0, epoch: ""))
    }

    @Test("a stream keeps max_messages; a read from before the oldest is not complete")
    func countBound() {
        let store = MemoryHistoryStore(limits: HistoryLimits(maxMessages: 3, maxAge: .seconds(60)), maxBytes: 1 << 20)
        var epoch = ""
        for i in 0..<5 { epoch = store.appendNow(to: "s", operation: 1, body: [UInt8(i)], now: t0).epoch }
        let page = store.readNow("s", after: 0, limit: 10, now: t0)
        #expect(page.entries.map(\.offset) == [3, 4, 5])
        #expect(!page.covers(after: 1, epoch: epoch), "offsets 2 was trimmed")
        #expect(store.readNow("s", after: 2, limit: 10, now: t0).covers(after: 2, epoch: epoch))
        #expect(store.usage.messages == 3)
    }

    @Test("messages older than max_age are gone, in reads and from memory")
    func ageBound() {
        let store = MemoryHistoryStore(limits: HistoryLimits(maxMessages: 100, maxAge: .seconds(10)), maxBytes: 1 << 20)
        _ = store.appendNow(to: "old", operation: 1, body: [1], now: t0)
        _ = store.appendNow(to: "new", operation: 1, body: [2], now: t0 + 9_000)
        #expect(store.readNow("old", after: 0, limit: 10, now: t0 + 10_500).entries.isEmpty)
        #expect(store.readNow("new", after: 0, limit: 10, now: t0 + 10_500).entries.count == 1)
        _ = store.appendNow(to: "new", operation: 1, body: [3], now: t0 + 10_500)
        #expect(store.usage.messages == 2, "the old message was removed by the append that found it expired")
    }

    @Test("all streams together stay within max_bytes, oldest message first out")
    func byteBound() {
        let cost = 100 + MemoryHistoryStore.entryOverhead
        let records = 5 * MemoryHistoryStore.streamOverhead
        let store = MemoryHistoryStore(limits: HistoryLimits(maxMessages: 1000, maxAge: .seconds(60)), maxBytes: 10 * cost + records)
        for i in 0..<25 {
            _ = store.appendNow(to: "s\(i % 5)", operation: 1, body: Array(repeating: 0, count: 100), now: t0 + UInt64(i))
        }
        #expect(store.usage.bytes <= 10 * cost + records)
        #expect(store.usage.messages == 10)
        // The 10 newest survive: appends 15..<25, two per stream.
        for s in 0..<5 {
            #expect(store.readNow("s\(s)", after: 0, limit: 10, now: t0 + 30).entries.map(\.offset) == [4, 5])
        }
    }

    @Test("the order of stored messages stays bounded when trimming by count does the work")
    func orderStaysBounded() {
        let store = MemoryHistoryStore(limits: HistoryLimits(maxMessages: 2, maxAge: .seconds(600)), maxBytes: 1 << 30)
        for i in 0..<20_000 { _ = store.appendNow(to: "s\(i % 3)", operation: 1, body: [1], now: t0) }
        #expect(store.usage.messages == 6)
        #expect(store.orderLength <= 2 * 512 + 1)
    }

    @Test("reads of streams nobody writes to are bounded by max_bytes: the empty streams are forgotten first")
    func readsOfUnknownStreamsAreBounded() {
        let store = MemoryHistoryStore(limits: HistoryLimits(), maxBytes: 100 * MemoryHistoryStore.streamOverhead)
        let kept = store.appendNow(to: "real", operation: 1, body: [1], now: t0)
        for i in 0..<10_000 { _ = store.readNow("probe-\(i)", after: 0, limit: 10, now: t0) }
        #expect(store.usage.streams <= 100)
        #expect(store.usage.bytes <= 100 * MemoryHistoryStore.streamOverhead)
        let page = store.readNow("real", after: 0, limit: 10, now: t0)
        #expect(page.epoch == kept.epoch && page.entries.count == 1, "a stream with messages is not forgotten for probes")
    }

    @Test("a read after an offset finds it by arithmetic, also deep in a long stream")
    func readDeep() {
        let store = MemoryHistoryStore(limits: HistoryLimits(maxMessages: 100_000, maxAge: .seconds(600)), maxBytes: 1 << 30)
        for i in 0..<50_000 { _ = store.appendNow(to: "long", operation: 1, body: [UInt8(i % 256)], now: t0) }
        let page = store.readNow("long", after: 49_990, limit: 5, now: t0)
        #expect(page.entries.map(\.offset) == [49_991, 49_992, 49_993, 49_994, 49_995])
        #expect(store.readNow("long", after: 50_000, limit: 5, now: t0).entries.isEmpty)
    }

    @Test("a read fixes a new stream's epoch: a later append and recovery see the same one")
    func epochFixedByRead() {
        let store = MemoryHistoryStore(limits: HistoryLimits(), maxBytes: 1 << 20)
        let first = store.readNow("fresh", after: 0, limit: 0, now: t0)
        #expect(first.top == 0)
        let appended = store.appendNow(to: "fresh", operation: 1, body: [1], now: t0)
        #expect(appended.epoch == first.epoch)
    }
}
