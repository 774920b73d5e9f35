import Foundation
import HeraldCore
import HeraldHistoryRedis
import HeraldRing
import HeraldTesting
import Logging
import Testing

@Suite("Redis history store (real redis-server)", .serialized)
struct RedisHistoryStoreTests {
    static func store(_ servers: RedisServers, maxMessages: Int = 100, maxAge: Duration = .seconds(600)) throws -> any HistoryStore {
        var registry = PluginRegistry()
        BuiltInRings.register(in: &registry)
        RedisHistoryStore.register(in: &registry)
        let list = servers.addresses.map { "\"\($0)\"" }.joined(separator: ", ")
        let table = try ConfigLoader.parse("addresses = [\(list)]")
        let context = HistoryContext(
            name: "redis", config: table, limits: HistoryLimits(maxMessages: maxMessages, maxAge: maxAge),
            logger: Logger(label: "test.history"), registry: registry
        )
        return try registry.makeHistoryStore(plugin: "redis", context: context)
    }

    @Test("offsets per stream from 1, binary bodies intact, reads after an offset, streams spread over servers")
    func appendAndRead() async throws {
        let servers = try RedisServers(count: 3)
        defer { servers.stopAll() }
        let store = try Self.store(servers)
        let binary: [UInt8] = [0, 255, 13, 10, 0x80, 0]
        var epochs: [String: String] = [:]
        for i in 0..<30 {
            let stream = "room:live://\(i % 10)"
            let position = try await store.append(to: stream, operation: 1000 + Int32(i % 3), body: binary + [UInt8(i)])
            #expect(position.offset == UInt64(i / 10 + 1))
            if let known = epochs[stream] { #expect(known == position.epoch) } else { epochs[stream] = position.epoch }
        }
        let page = try await store.read("room:live://4", after: 1, limit: 10)
        #expect(page.top == 3)
        #expect(page.entries.map(\.offset) == [2, 3])
        #expect(page.entries.map(\.body) == [binary + [14], binary + [24]])
        #expect(page.entries.map(\.operation) == [1002, 1000])
        #expect(page.covers(after: 1, epoch: epochs["room:live://4"]!))
        let used = try servers.addresses.filter { try servers.dbsize($0) > 0 }
        #expect(used.count >= 2, "the ring spreads 10 streams over the servers: \(used)")
        await store.shutdown()
    }

    @Test("max_messages trims the log; a read from before the oldest is not complete")
    func trimming() async throws {
        let servers = try RedisServers(count: 1)
        defer { servers.stopAll() }
        let store = try Self.store(servers, maxMessages: 5)
        var epoch = ""
        for i in 0..<12 { epoch = try await store.append(to: "user:1", operation: 1, body: [UInt8(i)]).epoch }
        let page = try await store.read("user:1", after: 0, limit: 100)
        #expect(page.entries.map(\.offset) == [8, 9, 10, 11, 12])
        #expect(!page.covers(after: 3, epoch: epoch))
        #expect(try await store.read("user:1", after: 7, limit: 100).covers(after: 7, epoch: epoch))
        #expect(!(try await store.read("user:1", after: 7, limit: 2).covers(after: 7, epoch: epoch)), "cut short by the limit")
        await store.shutdown()
    }

    @Test("a redis-server restarted empty starts a new epoch: old positions are not recovered, offsets start over")
    func restartedServerIsANewEpoch() async throws {
        let servers = try RedisServers(count: 1)
        defer { servers.stopAll() }
        let store = try Self.store(servers)
        var before = StreamPosition(offset: 0, epoch: "")
        for i in 0..<4 { before = try await store.append(to: "room:live://r", operation: 1, body: [UInt8(i)]) }
        servers.stop(0)
        try servers.restart(0)
        // The connection notices the restart on its next command (it reconnects).
        var after: StreamPosition?
        for _ in 0..<20 where after == nil {
            after = try? await store.append(to: "room:live://r", operation: 1, body: [9])
            if after == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let position = try #require(after)
        #expect(position.offset == 1)
        #expect(position.epoch != before.epoch)
        let page = try await store.read("room:live://r", after: before.offset, limit: 10)
        #expect(!page.covers(after: before.offset, epoch: before.epoch))
        await store.shutdown()
    }

    @Test("a stream read before its first message keeps the epoch the read returned")
    func epochFixedByRead() async throws {
        let servers = try RedisServers(count: 1)
        defer { servers.stopAll() }
        let store = try Self.store(servers)
        let first = try await store.read("user:9", after: 0, limit: 0)
        #expect(first.top == 0)
        let appended = try await store.append(to: "user:9", operation: 1, body: [1])
        #expect(appended.epoch == first.epoch)
        #expect(appended.offset == 1)
        await store.shutdown()
    }

    @Test("an unreachable server fails the append with an error naming it")
    func unreachable() async throws {
        let servers = try RedisServers(count: 1)
        defer { servers.stopAll() }
        let store = try Self.store(servers)
        servers.stop(0)
        let error = await #expect(throws: (any Error).self) { try await store.append(to: "user:1", operation: 1, body: [1]) }
        #expect("\(error.map { "\($0)" } ?? "")".contains(servers.addresses[0]), "\(String(describing: error))")
        await store.shutdown()
    }
}
