import Foundation
import HeraldProtocol
import HeraldTesting
import NIOCore
import Testing

/// The roles as separate processes, as a team that outgrew one machine runs them: three real
/// `redis-server`s (sessions placed by the ketama ring, the comet registry), two `herald comet`,
/// one `herald logic` and one `herald job`, talking gRPC (goim's services) and ZeroMQ.
@Suite("end to end: split deployment", .serialized)
struct ClusterTests {
    /// Port layout from one base: comets at +0 and +20 (tcp +1, ws +2, long-poll +4, gRPC +9), logic API +41 and
    /// gRPC +49, the zeromq job endpoint +60.
    struct Layout {
        let base = TestPorts.block(200)
        let redis: [String]
        /// `[rpc] secret` of every role, when set.
        var secret: String? = nil
        /// Mutual TLS between the roles: every role presents `certificate` (with `key`) and trusts `ca`.
        var mutualTLS: (certificate: String, key: String, ca: String)? = nil
        var secretTOML: String {
            var lines = secret.map { "secret = \"\($0)\"\n" } ?? ""
            if let mutualTLS { lines += "tls = true\nca_file = \"\(mutualTLS.ca)\"\n" }
            return lines
        }
        /// The `[tls]` table the mutual TLS presents (last in each role's configuration).
        var tlsTOML: String {
            guard let mutualTLS else { return "" }
            return "[tls]\ncertificate_file = \"\(mutualTLS.certificate)\"\nprivate_key_file = \"\(mutualTLS.key)\"\n"
        }
        /// Lines added to logic's configuration (after its `[logic]` section's listen line).
        var logicExtra = ""
        /// Sections added to the comets' and logic's configurations (`[history]`).
        var sharedExtra = ""
        var logicRPC: Int { base + 49 }
        var zeromq: String { "tcp://127.0.0.1:\(base + 60)" }

        var redisTOML: String {
            """
            [router]
            plugin = "redis"
            [router.redis]
            addresses = [\(redis.map { "\"\($0)\"" }.joined(separator: ", "))]
            ring = "ketama"

            """
        }

        func comet(_ id: String, at b: Int) -> String {
            """
            [server]
            id = "\(id)"
            threads = 1
            [log]
            # info: a comet that does not register in time shows how far it got (listeners, gRPC,
            # registry attempts) in the test's failure message.
            level = "info"
            [comet]
            drain_window = "0s"
            public_addresses = ["127.0.0.1"]
            [rpc]
            listen = "127.0.0.1:\(b + 9)"
            logic = ["127.0.0.1:\(logicRPC)"]
            \(secretTOML)
            [registry]
            ttl = "2s"
            interval = "300ms"
            [transport.tcp]
            listen = ["127.0.0.1:\(b + 1)"]
            [transport.websocket]
            listen = ["127.0.0.1:\(b + 2)"]
            [transport.longpoll]
            listen = "127.0.0.1:\(b + 4)"
            poll_timeout = "1s"
            \(redisTOML)
            \(sharedExtra)
            \(tlsTOML)
            """
        }

        func logic(at b: Int) -> String {
            """
            [server]
            id = "logic"
            threads = 1
            [log]
            level = "error"
            [logic]
            listen = "127.0.0.1:\(b + 11)"
            \(logicExtra)
            [rpc]
            listen = "127.0.0.1:\(logicRPC)"
            \(secretTOML)
            [registry]
            ttl = "2s"
            interval = "300ms"
            [queue]
            plugin = "zeromq"
            [queue.zeromq]
            bind = ""
            connect = ["\(zeromq)"]
            \(redisTOML)
            \(sharedExtra)
            \(tlsTOML)
            """
        }

        var job: String {
            """
            [server]
            id = "job"
            [log]
            level = "error"
            [rpc]
            \(secretTOML)
            [registry]
            ttl = "2s"
            interval = "300ms"
            [queue]
            plugin = "zeromq"
            [queue.zeromq]
            bind = "\(zeromq)"
            \(redisTOML)
            \(tlsTOML)
            """
        }
    }

    /// The split deployment of `layout` running: logic, job, comet-a and comet-b (each comet
    /// registered before the next starts).
    struct Cluster {
        let logic: HeraldChild
        let job: HeraldChild
        let cometA: HeraldChild
        let cometB: HeraldChild

        init(_ layout: Layout) async throws {
            let b = layout.base
            let logic = try await HeraldChild(role: "logic", base: b + 30, config: { layout.logic(at: $0) })
            self.logic = logic
            job = try await HeraldChild(role: "job", base: b + 50, config: { _ in layout.job }, ready: { _ in true })
            cometA = try await HeraldChild(
                role: "comet", base: b, config: { layout.comet("comet-a", at: $0) },
                ready: { _ in
                    await ClusterTests.registered(logic).contains("comet-a")
                })
            cometB = try await HeraldChild(
                role: "comet", base: b + 20, config: { layout.comet("comet-b", at: $0) },
                ready: { _ in
                    await ClusterTests.registered(logic).contains("comet-b")
                })
        }

        func stop() {
            for child in [cometB, cometA, job, logic] { child.stop() }
        }
    }

    static func registered(_ logic: HeraldChild) async -> [String] {
        guard let data = (try? await logic.api.get("/goim/nodes/instances"))?.data else { return [] }
        return ["comet-a", "comet-b"].filter { data.contains(#""hostname":"\#($0)""#) }
    }

    @Test(
        "pushes by key, by user with devices on two comets, to a room spanning comets, and to all; a killed comet drops out and its users read offline"
    )
    func splitDeployment() async throws {
        let redis = try RedisServers(count: 3)
        defer { redis.stopAll() }
        let layout = Layout(redis: redis.addresses)
        let b = layout.base
        let cluster = try await Cluster(layout)
        defer { cluster.stop() }
        let (logic, cometB) = (cluster.logic, cluster.cometB)

        // User 1 has a device on each comet; user 2 is on comet B only.
        let a1 = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
        #expect(try await a1.authenticate(AuthToken(mid: 1, key: "u1-phone", roomID: "live://shared", platform: "ios", accepts: [1000])))
        let b1 = try await GoimWebSocketClient.connect(host: "127.0.0.1", port: b + 22)
        #expect(try await b1.authenticate(AuthToken(mid: 1, key: "u1-web", roomID: "live://shared", platform: "web", accepts: [1000])))
        let b2 = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 21)
        #expect(try await b2.authenticate(AuthToken(mid: 2, key: "u2", roomID: "live://other", accepts: [1000])))
        let clients: [any GoimClient] = [a1, b1, b2]

        // Warm up until the job knows both comets: a broadcast reaches every client.
        var warm = false
        for i in 0..<40 where !warm {
            _ = try await logic.api.post("/goim/push/all?operation=1000", body: "warm-\(i)")
            try await Task.sleep(for: .milliseconds(250))
            var all = true
            for c in clients {
                var got = false
                while let p = await c.inbox.next(timeout: .milliseconds(50)) { if p.text.hasPrefix("warm") { got = true } }
                all = all && got
            }
            warm = all
        }
        #expect(warm, "a broadcast reached clients on both comets")
        for c in clients { while await c.inbox.next(timeout: .milliseconds(100)) != nil {} }

        #expect(try await logic.api.post("/goim/push/keys?operation=1000&keys=u1-phone", body: "by key").code == 0)
        #expect(await a1.inbox.next()?.text == "by key")

        let mids = try await logic.api.post("/goim/push/mids?operation=1000&mids=1,3", body: "to user 1")
        #expect(mids.code == 0)
        #expect(mids.data == #"{"offline_mids":[3]}"#, "\(mids.data ?? "")")
        #expect(await a1.inbox.next()?.text == "to user 1")
        #expect(await b1.inbox.next()?.text == "to user 1")

        #expect(try await logic.api.post("/goim/push/mids?operation=1000&mids=1&platform=web", body: "web only").code == 0)
        #expect(await b1.inbox.next()?.text == "web only")

        #expect(try await logic.api.post("/goim/push/room?operation=1000&type=live&room=shared", body: "room").code == 0)
        #expect(await a1.inbox.next()?.text == "room")
        #expect(await b1.inbox.next()?.text == "room")

        #expect(try await logic.api.post("/goim/push/all?operation=1000", body: "everyone").code == 0)
        for c in clients { #expect(await c.inbox.next()?.text == "everyone") }
        #expect(await a1.inbox.next(timeout: .milliseconds(300)) == nil, "no duplicates: the web-only push did not reach the phone")

        let online = try await logic.api.get("/goim/online/users?mids=1,2")
        #expect(online.data?.contains(#""1":{"connections":2"#) == true, "\(online.data ?? "")")

        // Comet B dies without a word: after its registration's TTL it is gone, and so are its users.
        cometB.signal(SIGKILL)
        let dropped = await eventually(timeout: .seconds(10)) { await Self.registered(logic) == ["comet-a"] }
        #expect(dropped, "comet-b left the node list")
        let after = try await logic.api.get("/goim/online/users?mids=1,2")
        #expect(after.data?.contains(#""1":{"connections":1"#) == true, "\(after.data ?? "")")
        #expect(after.data?.contains(#""2":{"connections":0,"online":false"#) == true, "\(after.data ?? "")")
        let offline = try await logic.api.post("/goim/push/mids?operation=1000&mids=1,2", body: "after the kill")
        #expect(offline.data == #"{"offline_mids":[2]}"#, "\(offline.data ?? "")")
        #expect(await a1.inbox.next()?.text == "after the kill")
        for c in [a1, b2] as [any GoimClient] { await c.close() }
        await b1.close()
    }

    @Test("SIGHUP on a comet switches it to another logic pool: after the old logic is gone, clients still authenticate")
    func cometFollowsLogicPool() async throws {
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        let layout = Layout(redis: redis.addresses)
        let b = layout.base
        let first = try await HeraldChild(role: "logic", base: b + 30, config: { layout.logic(at: $0) })
        defer { first.stop() }
        // A second logic process: same sessions, its gRPC on another port.
        let secondRPC = b + 79
        let second = try await HeraldChild(
            role: "logic", base: b + 60,
            config: {
                layout.logic(at: $0).replacingOccurrences(of: "127.0.0.1:\(layout.logicRPC)", with: "127.0.0.1:\(secondRPC)")
            })
        defer { second.stop() }
        let comet = try await HeraldChild(
            role: "comet", base: b, config: { layout.comet("comet-a", at: $0) },
            ready: { _ in
                await Self.registered(first).contains("comet-a")
            })
        defer { comet.stop() }

        let before = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
        #expect(try await before.authenticate(AuthToken(mid: 1, accepts: [1000])))

        try comet.rewrite {
            layout.comet("comet-a", at: $0).replacingOccurrences(of: "127.0.0.1:\(layout.logicRPC)", with: "127.0.0.1:\(secondRPC)")
        }
        comet.signal(SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        first.signal(SIGKILL)

        var admitted: GoimTCPClient?
        let deadline = ContinuousClock.now + .seconds(10)
        while admitted == nil, ContinuousClock.now < deadline {
            let c = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
            if try await c.authenticate(AuthToken(mid: 2, accepts: [1000]), timeout: .seconds(3)) { admitted = c } else { await c.close() }
        }
        #expect(admitted != nil, "a new connection authenticates through the second logic")
        let online = try await second.api.get("/goim/online/users?mids=2")
        #expect(online.data?.contains(#""online":true"#) == true, "\(online.data ?? "")")
        await admitted?.close()
        await before.close()
    }

    @Test(
        "a comet that started before its logic authenticates the first client that comes once logic is up (no wait for a backed-off reconnect)"
    )
    func cometStartedBeforeLogic() async throws {
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        let layout = Layout(redis: redis.addresses)
        let b = layout.base
        // A call may wait 5 s for its connection: the mechanism under test is that it waits and
        // that the next attempt comes soon, not how close the two are to a 2 s deadline.
        let comet = try await HeraldChild(
            role: "comet", base: b,
            config: {
                layout.comet("comet-a", at: $0).replacingOccurrences(of: "[rpc]\n", with: "[rpc]\ntimeout = \"5s\"\n")
            },
            ready: { _ in
                guard let probe = try? await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1) else { return false }
                await probe.close()
                return true
            })
        defer { comet.stop() }
        // Six seconds of refused connections to logic: gRPC's default backoff would now wait
        // about four seconds before its next attempt, failing every call meanwhile.
        try await Task.sleep(for: .seconds(6))
        let logic = try await HeraldChild(role: "logic", base: b + 30, config: { layout.logic(at: $0) })
        defer { logic.stop() }

        let client = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
        #expect(
            try await client.authenticate(AuthToken(mid: 3, accepts: [1000]), timeout: .seconds(10)),
            "the first client after logic came up is admitted")
        await client.close()
    }

    @Test("SIGHUP on logic applies new auth settings: after it, a plain goim token is refused through the comet")
    func logicReloadsAuth() async throws {
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        let layout = Layout(redis: redis.addresses)
        let b = layout.base
        let logic = try await HeraldChild(role: "logic", base: b + 30, config: { layout.logic(at: $0) })
        defer { logic.stop() }
        let comet = try await HeraldChild(
            role: "comet", base: b, config: { layout.comet("comet-a", at: $0) },
            ready: { _ in
                await Self.registered(logic).contains("comet-a")
            })
        defer { comet.stop() }

        let plain = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
        #expect(try await plain.authenticate(AuthToken(mid: 1, accepts: [1000])), "mode none admits a plain token")
        await plain.close()

        try logic.rewrite {
            layout.logic(at: $0)
                + "\n[logic.auth]\nmode = \"jwt\"\njwt_algorithm = \"HS256\"\njwt_secret = \"a-test-secret-of-at-least-32-bytes\"\n"
        }
        logic.signal(SIGHUP)
        var refused = false
        let deadline = ContinuousClock.now + .seconds(10)
        while !refused, ContinuousClock.now < deadline {
            let c = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
            refused = try await !c.authenticate(AuthToken(mid: 2, accepts: [1000]), timeout: .seconds(3))
            await c.close()
            if !refused { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(refused, "after the reload logic verifies tokens as JWTs")
        // The refusal is the new verifier's, not a broken path: a signed token is admitted, and its
        // claims decide who the connection is.
        let signed = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
        try await signed.send(
            Packet(
                version: 1, operation: .auth, sequence: 1,
                body: ByteBuffer(string: try await SecurityTests.hs256(SecurityTests.valid(mid: 77)))))
        #expect(await signed.inbox.next(timeout: .seconds(5))?.operation == .authReply, "a valid HS256 token is admitted through the comet")
        let online = try await logic.api.get("/goim/online/users?mids=77")
        #expect(online.data?.contains(#""online":true"#) == true, "the JWT's user is online: \(online.data ?? "")")
        await signed.close()
        #expect(try await logic.api.get("/goim/online/total").code == 0, "logic still serves its API")
    }
}
