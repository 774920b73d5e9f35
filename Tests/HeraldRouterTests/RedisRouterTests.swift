import Foundation
import HeraldCore
import HeraldRing
import HeraldRouterRedis
import HeraldTesting
import Logging
import Testing

@Suite("Redis router (real redis-server)", .serialized)
struct RedisRouterTests {
    static func router(_ servers: RedisServers, ring: String = "ketama", expire: String = "30m") throws -> RedisRouter {
        var registry = PluginRegistry()
        BuiltInRings.register(in: &registry)
        RedisRouter.register(in: &registry)
        var logger = Logger(label: "test.redis")
        logger.logLevel = .warning
        let list = servers.addresses.map { "\"\($0)\"" }.joined(separator: ", ")
        let table = try ConfigLoader.parse("addresses = [\(list)]\nring = \"\(ring)\"\nexpire = \"\(expire)\"")
        return try #require(
            try registry.makeRouter(
                plugin: "redis", context: RouterContext(name: "redis", config: table, logger: logger, registry: registry)) as? RedisRouter)
    }

    @Test("mappings: add, look up by key and by user, refresh, delete; a stale delete keeps the newer mapping")
    func mappings() async throws {
        let servers = try RedisServers(count: 1)
        defer { servers.stopAll() }
        let r = try Self.router(servers)
        defer { Task { await r.shutdown() } }
        try await r.addMapping(SessionMapping(mid: 7, key: "a", server: "comet-1", platform: "web"))
        try await r.addMapping(SessionMapping(mid: 7, key: "b", server: "comet-2", platform: "ios"))
        #expect(try await r.serversByKeys(["a", "b", "zz"]) == ["a": "comet-1", "b": "comet-2"])
        let sessions = try await r.sessionsByMids([7, 8])
        #expect(sessions[8] == nil)
        #expect(
            Set(try #require(sessions[7])) == [
                SessionMapping(mid: 7, key: "a", server: "comet-1", platform: "web"),
                SessionMapping(mid: 7, key: "b", server: "comet-2", platform: "ios"),
            ])
        #expect(try await r.expireMapping(mid: 7, key: "a", server: "comet-1"))
        #expect(try await r.expireMapping(mid: 7, key: "gone", server: "comet-1") == false)
        // Key "a" reconnects on comet-3; the old comet's late disconnect must not remove it.
        try await r.addMapping(SessionMapping(mid: 7, key: "a", server: "comet-3", platform: "web"))
        #expect(try await r.deleteMapping(mid: 7, key: "a", server: "comet-1") == false)
        #expect(try await r.serversByKeys(["a"]) == ["a": "comet-3"])
        #expect(try await r.deleteMapping(mid: 7, key: "a", server: "comet-3"))
        #expect(try await r.serversByKeys(["a"]).isEmpty)
        #expect(try await r.sessionsByMids([7])[7]?.map(\.key) == ["b"])
    }

    @Test("2,000 sessions written and read at once, with room reports replaced meanwhile: every call gets its own replies")
    func concurrentCallsShareRoundTrips() async throws {
        let servers = try RedisServers(count: 1)
        defer { servers.stopAll() }
        let r = try Self.router(servers)
        defer { Task { await r.shutdown() } }
        // Calls made while the connection is busy are written together; a reply handed to the
        // wrong call would show up as another session's server or a half-replaced room report.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<2_000 {
                group.addTask { try await r.addMapping(SessionMapping(mid: Int64(i + 1), key: "k\(i)", server: "comet-\(i)")) }
                if i % 100 == 0 {
                    group.addTask {
                        try await r.setServerOnline(
                            ServerOnline(server: "comet-x", roomCount: ["live://\(i)": Int32(i), "live://all": 1], updated: Date()))
                    }
                }
            }
            try await group.waitForAll()
        }
        try await withThrowingTaskGroup(of: (Int, [String: CometID], Int).self) { group in
            for i in 0..<2_000 {
                group.addTask {
                    (i, try await r.serversByKeys(["k\(i)"]), try await r.sessionsByMids([Int64(i + 1)])[Int64(i + 1)]?.count ?? 0)
                }
            }
            for try await (i, servers, sessions) in group {
                #expect(servers == ["k\(i)": "comet-\(i)"])
                #expect(sessions == 1)
            }
        }
        let online = try #require(try await r.serverOnline(server: "comet-x"))
        #expect(online.roomCount.count == 2, "one whole report, not a mix: \(online.roomCount)")
    }

    @Test("100 devices of one user connecting at once are all kept")
    func concurrentDevices() async throws {
        let servers = try RedisServers(count: 2)
        defer { servers.stopAll() }
        let r = try Self.router(servers)
        defer { Task { await r.shutdown() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<100 {
                group.addTask { try await r.addMapping(SessionMapping(mid: 42, key: "device-\(i)", server: "comet-\(i % 3)")) }
            }
            try await group.waitForAll()
        }
        #expect(try await r.sessionsByMids([42])[42]?.count == 100)
    }

    @Test("keys spread over three servers by the ring, and every lookup finds its server", arguments: ["ketama", "jump", "rendezvous"])
    func sharding(ring: String) async throws {
        let servers = try RedisServers(count: 3)
        defer { servers.stopAll() }
        let r = try Self.router(servers, ring: ring)
        defer { Task { await r.shutdown() } }
        for mid in Int64(1)...300 { try await r.addMapping(SessionMapping(mid: mid, key: "k\(mid)", server: "comet-\(mid % 2)")) }
        let sizes = try servers.addresses.map { try servers.dbsize($0) }
        #expect(sizes.reduce(0, +) == 900, "key_, mid_ and plat_ per user: \(sizes)")
        for size in sizes { #expect(size > 150, "every server holds part of the keys: \(sizes)") }
        let found = try await r.sessionsByMids(Array(1...300))
        #expect(found.count == 300)
        #expect(try await r.serversByKeys((1...300).map { "k\($0)" }).count == 300)
    }

    @Test("mappings expire unless refreshed")
    func expiry() async throws {
        let servers = try RedisServers(count: 1)
        defer { servers.stopAll() }
        // The refresh interval is a fifth of the expiry. With refreshes 500 ms apart under a 1 s
        // expiry, a loaded CI run found the mapping gone at its first refresh: most likely more
        // than a second passed between the add and that refresh.
        let r = try Self.router(servers, expire: "5s")
        defer { Task { await r.shutdown() } }
        try await r.addMapping(SessionMapping(mid: 1, key: "stays", server: "c"))
        try await r.addMapping(SessionMapping(mid: 2, key: "goes", server: "c"))
        let start = ContinuousClock.now
        // Refreshed every second until "goes" (never refreshed) is past its expiry.
        while ContinuousClock.now - start < .seconds(6) {
            try await Task.sleep(for: .seconds(1))
            #expect(try await r.expireMapping(mid: 1, key: "stays", server: "c"))
        }
        #expect(try await r.serversByKeys(["stays", "goes"]) == ["stays": "c"])
    }

    @Test("room counts per server are replaced whole and read back")
    func online() async throws {
        let servers = try RedisServers(count: 2)
        defer { servers.stopAll() }
        let r = try Self.router(servers)
        defer { Task { await r.shutdown() } }
        try await r.setServerOnline(ServerOnline(server: "comet-1", roomCount: ["live://1": 3, "live://2": 1]))
        try await r.setServerOnline(ServerOnline(server: "comet-1", roomCount: ["live://1": 5]))
        #expect(try await r.serverOnline(server: "comet-1")?.roomCount == ["live://1": 5])
        #expect(try await r.serverOnline(server: "comet-2") == nil)
        try await r.deleteServerOnline(server: "comet-1")
        #expect(try await r.serverOnline(server: "comet-1") == nil)
    }

    @Test("a Redis server that goes away fails calls with a clear error, and the router reconnects when it is back")
    func outage() async throws {
        let servers = try RedisServers(count: 1)
        defer { servers.stopAll() }
        let r = try Self.router(servers)
        defer { Task { await r.shutdown() } }
        try await r.addMapping(SessionMapping(mid: 1, key: "x", server: "c"))
        servers.stop(0)
        await #expect(throws: RouterError.self) { try await r.serversByKeys(["x"]) }
        try servers.restart(0)  // empty: nothing was saved
        #expect(try await r.serversByKeys(["x"]).isEmpty)
        try await r.addMapping(SessionMapping(mid: 1, key: "x", server: "c"))
        #expect(try await r.serversByKeys(["x"]) == ["x": "c"])
    }
}
