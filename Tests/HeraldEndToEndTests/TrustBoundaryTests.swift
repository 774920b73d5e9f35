import Foundation
import GRPCCore
import HeraldApp
import HeraldCore
import HeraldProtocol
import HeraldRPC
import HeraldTesting
import JWTKit
import NIOCore
import Testing

/// The attack suite: each attempt is made against a real listener, and a good client counts what
/// it receives meanwhile — the attack must be refused and the good stream must lose nothing.
@Suite("end to end: trust boundaries", .serialized)
struct TrustBoundaryTests {
    // MARK: - Start-up refusals

    @Test(
        "a listener other machines can reach refuses to start without authentication, naming the key",
        arguments: [
            ("[logic]\nlisten = \"0.0.0.0:0\"", "logic.listen"),
            ("[logic]\nlisten = \":0\"", "logic.listen"),
            ("[queue]\nplugin = \"zeromq\"\n[queue.zeromq]\nbind = \"tcp://0.0.0.0:0\"", "queue.zeromq.bind"),
            ("[queue]\nplugin = \"zeromq\"\n[queue.zeromq]\nbind = \"tcp://*:0\"", "queue.zeromq.bind"),
        ])
    func wideListenersRefused(toml: String, key: String) throws {
        let error = #expect(throws: ConfigError.self) {
            let configuration = try HeraldConfiguration.parse(toml)
            _ = try HeraldServer(configuration: configuration)
        }
        #expect(error?.key == key, "refused naming \(key): \(String(describing: error))")
    }

    @Test(
        "a gRPC listener refuses a wide address without [rpc] secret or insecure, naming the key", arguments: ["0.0.0.0:0", ":0", "[::]:0"])
    func wideRPCRefused(listen: String) throws {
        let error = #expect(throws: ConfigError.self) { _ = try RPCServerService(listen: listen, services: [], credentials: .none) }
        #expect(error?.key == "rpc.listen")
        #expect(error?.message.contains("secret") == true, "says how to fix it: \(String(describing: error))")
        // Either way of accepting it is taken; loopback needs neither.
        _ = try RPCServerService(listen: listen, services: [], credentials: RPCCredentials(secret: "0123456789abcdef0123456789abcdef"))
        _ = try RPCServerService(listen: listen, services: [], credentials: RPCCredentials(admitWithoutSecret: true))
        let tls = RPCCredentials.MutualTLS(certificateFile: "cert.pem", privateKeyFile: "key.pem", trustedFile: "ca.pem")
        _ = try RPCServerService(listen: listen, services: [], credentials: RPCCredentials(tls: tls))
        _ = try RPCServerService(listen: "127.0.0.1:0", services: [], credentials: .none)
    }

    @Test(
        "config values that overflow or are too short are refused naming the key, not trapped",
        arguments: [
            ("[comet]\nhandshake_timeout = \"99999999999999999999h\"", "comet.handshake_timeout"),
            ("[comet]\nhandshake_timeout = \"1e30s\"", "comet.handshake_timeout"),
            ("[rpc]\nsecret = \"short\"", "rpc.secret"),
            ("[rpc]\nsecret = \"\"", "rpc.secret"),
            ("[rpc]\ntls = true", "rpc.tls"),
            (
                "[tls]\ncertificate_file = \"/nonexistent/c.pem\"\nprivate_key_file = \"/nonexistent/k.pem\"\n[rpc]\ntls = true",
                "rpc.ca_file"
            ),
            (
                "[tls]\ncertificate_file = \"/nonexistent/c.pem\"\nprivate_key_file = \"/nonexistent/k.pem\"\n[rpc]\ntls = true\nca_file = \"/nonexistent/ca.pem\"",
                "tls.certificate_file"
            ),
            ("[logic]\nallowed_origins = [\"app.example.com\"]", "logic.allowed_origins"),
        ])
    func overflowingValues(toml: String, key: String) {
        let error = #expect(throws: ConfigError.self) { _ = try HeraldConfiguration.parse(toml) }
        #expect(error?.key == key, "refused naming \(key): \(String(describing: error))")
    }

    // MARK: - The API port

    @Test("/metrics needs its token, /demo is off unless configured, a cross-site push is refused and delivers nothing")
    func apiPort() async throws {
        let configuration = try HeraldConfiguration.parse(
            gatewayTOML(logic: "metrics_token = \"scrape-secret\"\nallowed_origins = [\"https://app.example.com\"]"))
        let server = try HeraldServer(configuration: configuration, metricsText: { Array("herald_up 1\n".utf8) })
        let task = Task { try await server.run() }
        defer { task.cancel() }
        let addresses = try await server.addresses()
        let api = addresses.api!.port!
        let tcp = addresses.transports["tcp"]!.first!.port!

        let open = try await HTTP1Client.request(host: "127.0.0.1", port: api, method: .GET, path: "/metrics")
        #expect(open.status == 401, "no token: refused")
        let scraped = try await HTTP1Client.request(
            host: "127.0.0.1", port: api, method: .GET, path: "/metrics", headers: [("Authorization", "Bearer scrape-secret")]
        )
        #expect(scraped.status == 200 && String(buffer: scraped.body).contains("herald_up 1"))
        #expect(try await HTTP1Client.request(host: "127.0.0.1", port: api, method: .GET, path: "/demo").status == 404)

        let client = try await GoimTCPClient.connect(host: "127.0.0.1", port: tcp)
        #expect(try await client.authenticate(AuthToken(mid: 1, key: "k1", roomID: "live://r", accepts: [1000])))
        // A page elsewhere posts text/plain (a "simple" request, no preflight).
        for origin in ["https://evil.example", "http://127.0.0.1:\(api + 1)", "null"] {
            let forged = try await HTTP1Client.request(
                host: "127.0.0.1", port: api, method: .POST, path: "/goim/push/room?operation=1000&type=live&room=r",
                body: ByteBuffer(string: "forged"), headers: [("Origin", origin), ("Content-Type", "text/plain")]
            )
            #expect(forged.status == 403, "Origin \(origin) refused")
        }
        for (origin, text) in [
            (nil, "from a backend"), ("http://127.0.0.1:\(api)", "from the API's own page"),
            ("https://app.example.com", "from an allowed site"),
        ] {
            let reply = try await HTTP1Client.request(
                host: "127.0.0.1", port: api, method: .POST, path: "/goim/push/room?operation=1000&type=live&room=r",
                body: ByteBuffer(string: text), headers: origin.map { [("Origin", $0)] } ?? []
            )
            #expect(reply.status == 200, "\(origin ?? "no Origin") accepted")
        }
        // DNS rebinding: a page at evil.example whose name points at 127.0.0.1 sends its own name
        // as Host and Origin; a loopback API without api_token answers only loopback names.
        let rebound = try await HTTP1Client.request(
            host: "127.0.0.1", port: api, method: .POST, path: "/goim/push/room?operation=1000&type=live&room=r",
            body: ByteBuffer(string: "rebound"), headers: [("Host", "evil.example:\(api)"), ("Origin", "http://evil.example:\(api)")]
        )
        #expect(rebound.status == 403, "a non-loopback Host is refused")
        // A name that only starts like a loopback address is not one.
        let lookalike = try await HTTP1Client.request(
            host: "127.0.0.1", port: api, method: .POST, path: "/goim/push/room?operation=1000&type=live&room=r",
            body: ByteBuffer(string: "lookalike"), headers: [("Host", "127.0.0.1.evil.example:\(api)")]
        )
        #expect(lookalike.status == 403, "a Host that merely begins with 127.0.0.1 is refused")
        #expect(
            await receiveTexts(client, count: 3) == ["from a backend", "from the API's own page", "from an allowed site"],
            "the forged pushes delivered nothing")
        await client.close()
        await server.shutdown()
        _ = try? await task.value
    }

    /// The texts of what `client` receives until 500 ms pass without a packet.
    static func drain(_ client: any GoimClient) async -> [String] {
        await receiveTexts(client, count: 0)
    }

    @Test("/metrics falls back to the api_token when it has no token of its own")
    func metricsBehindAPIToken() async throws {
        let configuration = try HeraldConfiguration.parse(gatewayTOML(logic: "api_token = \"push-secret\""))
        let server = try HeraldServer(configuration: configuration, metricsText: { Array("herald_up 1\n".utf8) })
        let task = Task { try await server.run() }
        let api = try await server.addresses().api!.port!
        #expect(try await HTTP1Client.request(host: "127.0.0.1", port: api, method: .GET, path: "/metrics").status == 401)
        let scraped = try await HTTP1Client.request(
            host: "127.0.0.1", port: api, method: .GET, path: "/metrics", headers: [("Authorization", "Bearer push-secret")]
        )
        #expect(scraped.status == 200)
        await server.shutdown()
        _ = try? await task.value
    }

    @Test("a room named like the room-count report's own field does not corrupt the report")
    func reservedRoomName() async throws {
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        let toml = gatewayTOML(
            extra: """
                [router]
                plugin = "redis"
                [router.redis]
                addresses = ["\(redis.addresses[0])"]
                """)
        try await withGateway(toml) { g in
            let odd = try await g.client(.tcp, AuthToken(mid: 1, key: "odd", roomID: "_updated", accepts: [1000]))
            let plain = try await g.client(.tcp, AuthToken(mid: 2, key: "plain", roomID: "live://1", accepts: [1000]))
            let counted = await eventually {
                (try? await g.http.get("/goim/online/top?type=live&limit=5"))?.data == #"[{"count":1,"room_id":"1"}]"#
            }
            #expect(counted, "the report with a room named _updated is still read")
            for c in [odd, plain] { await c.close() }
        }
    }

    // MARK: - Identity from verified claims

    struct Claims: JWTPayload {
        var exp = ExpirationClaim(value: Date().addingTimeInterval(600))
        var nbf: NotBeforeClaim?
        var aud: AudienceClaim? = "herald"
        var mid: Int64
        var key: String?
        var room_id: String?
        var accepts: [Int32]? = [1000]
        var rooms: [String]?
        var operations: [Int32]?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    @Test("jwt: the key, rooms and operations come from the claims; op 12 and op 14 cannot leave what they grant; aud and nbf are checked")
    func claimsOnly() async throws {
        let toml = gatewayTOML(logic: "[logic.auth]\nmode = \"jwt\"\njwt_secret = \"\(SecurityTests.secret)\"\njwt_audience = \"herald\"")
        try await withGateway(toml) { g in
            let victim = try await SecurityTests.auth(
                g, try await SecurityTests.hs256(Claims(mid: 20, key: "victim-key", room_id: "live://v")))
            #expect(victim.ok)
            // The attacker's token is valid, but the body's key, accepts and platform are not read.
            let token = try await SecurityTests.hs256(
                Claims(mid: 10, room_id: "live://a", rooms: ["live://a", "chat://*"], operations: [1001]))
            let attacker = try await SecurityTests.auth(g, #"{"token":"\#(token)","key":"victim-key","accepts":[2000],"platform":"web"}"#)
            #expect(attacker.ok)
            let a = attacker.client

            #expect(try await g.http.post("/goim/push/keys?operation=1000&keys=victim-key", body: "for the victim").code == 0)
            #expect(await victim.client.inbox.next()?.text == "for the victim", "the victim kept its key")

            // op 12: a room outside the grants is refused (the reply names the room it is in).
            #expect(try await a.request(.changeRoom, "live://v").map { String(buffer: $0.body) } == "live://a")
            #expect(try await a.request(.changeRoom, "chat://42").map { String(buffer: $0.body) } == "chat://42")
            // op 14: only granted operations are added (the reply lists them).
            #expect(try await a.request(.sub, "1001,2000").map { String(buffer: $0.body) } == "1001")

            for (path, text) in [
                ("/goim/push/room?operation=1000&type=live&room=v", "victim's room"),
                ("/goim/push/mids?operation=2000&mids=10", "op 2000"),
                ("/goim/push/room?operation=1000&type=chat&room=42", "granted room"),
                ("/goim/push/mids?operation=1001&mids=10", "op 1001"),
            ] {
                #expect(try await g.http.post(path, body: text).code == 0)
            }
            // A room push and a user push travel on different order keys: compared as a set.
            #expect(await receiveTexts(a, count: 2).sorted() == ["granted room", "op 1001"], "the attacker got only what its token grants")
            #expect(await victim.client.inbox.next()?.text == "victim's room")

            var future = Claims(mid: 11)
            future.nbf = NotBeforeClaim(value: Date().addingTimeInterval(600))
            var otherAudience = Claims(mid: 12)
            otherAudience.aud = "another-service"
            var noAudience = Claims(mid: 13)
            noAudience.aud = nil
            for (what, claims) in [("nbf in the future", future), ("another audience", otherAudience), ("no audience", noAudience)] {
                let r = try await SecurityTests.auth(g, try await SecurityTests.hs256(claims))
                #expect(!r.ok, "\(what) must be refused")
                await r.client.close()
            }
            for c in [victim.client, a] { await c.close() }
        }
    }

    @Test("goim's plain-token mode keeps goim's behaviour: op 12 and op 14 change anything")
    func plainTokens() async throws {
        try await withGateway { g in
            let c = try await g.client(.tcp, AuthToken(mid: 1, key: "plain", roomID: "live://1", accepts: [1000]))
            #expect(try await c.request(.changeRoom, "live://2").map { String(buffer: $0.body) } == "live://2")
            #expect(try await c.request(.sub, "2000").map { String(buffer: $0.body) } == "2000")
            _ = try await g.http.post("/goim/push/room?operation=2000&type=live&room=2", body: "anything")
            #expect(await c.inbox.next()?.text == "anything")
            await c.close()
        }
    }

    // MARK: - The gRPC ports between roles

    /// logic, job and comet-a of `layout` as processes, once the comet is registered.
    struct SplitRoles {
        let logic: HeraldChild
        let job: HeraldChild
        let comet: HeraldChild

        init(_ layout: ClusterTests.Layout) async throws {
            let b = layout.base
            let logic = try await HeraldChild(role: "logic", base: b + 30, config: { layout.logic(at: $0) })
            job = try await HeraldChild(role: "job", base: b + 50, config: { _ in layout.job }, ready: { _ in true })
            comet = try await HeraldChild(
                role: "comet", base: b, config: { layout.comet("comet-a", at: $0) },
                ready: { _ in
                    await ClusterTests.registered(logic).contains("comet-a")
                })
            self.logic = logic
        }

        func stop() {
            comet.stop()
            job.stop()
            logic.stop()
        }
    }

    /// Pushes to room `live://good` until `client` receives one (the job knows the comet), then
    /// drains what else arrived.
    static func warmUp(_ client: any GoimClient, logic: HeraldChild, _ what: String) async throws {
        var warm = false
        for i in 0..<40 where !warm {
            _ = try await logic.api.post("/goim/push/room?operation=1000&type=live&room=good", body: "warm-\(i)")
            warm = await client.inbox.next(timeout: .milliseconds(250)) != nil
        }
        try #require(warm, Comment(rawValue: what))
        _ = await drain(client)
    }

    @Test(
        "with [rpc] tls, roles talk mutual TLS: the deployment delivers; a plain-text caller and one with a certificate the deployment did not sign get nothing in"
    )
    func rpcMutualTLS() async throws {
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        let deployment = try TLSTests.TestCertificate()
        try deployment.issue("herald-role")
        let stranger = try TLSTests.TestCertificate()
        try stranger.issue("not-herald")
        defer { deployment.remove(); stranger.remove() }
        var layout = ClusterTests.Layout(redis: redis.addresses)
        layout.mutualTLS = (deployment.certificate, deployment.key, deployment.certificate)
        let b = layout.base
        let roles = try await SplitRoles(layout)
        defer { roles.stop() }
        let logic = roles.logic

        // comet → logic (auth) and job → comet (pushes) both run over mutual TLS.
        let client = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
        #expect(try await client.authenticate(AuthToken(mid: 1, key: "good", roomID: "live://good", accepts: [1000])))
        try await Self.warmUp(client, logic: logic, "the deployment delivers over mutual TLS")

        let policy = RPCCallPolicy(timeout: .seconds(2), attempts: 1)
        let cometAddress = "127.0.0.1:\(b + 9)"
        let strangerTLS = RPCCredentials.MutualTLS(
            certificateFile: stranger.certificate, privateKeyFile: stranger.key, trustedFile: deployment.certificate)
        for (what, credentials) in [
            ("plain text", RPCCredentials.none), ("a certificate not signed by the deployment", RPCCredentials(tls: strangerTLS)),
        ] {
            let intruder = try CometRPCClient(serverID: "comet-a", address: cometAddress, policy: policy, credentials: credentials)
            await #expect(throws: (any Error).self, "\(what): refused") {
                try await intruder.broadcastRoom(
                    "live://good", unit: PushUnit(packet: Packet(operation: Operation(rawValue: 1000), body: ByteBuffer(string: "attack"))))
            }
            await intruder.close()
        }
        let deploymentTLS = RPCCredentials.MutualTLS(
            certificateFile: deployment.certificate, privateKeyFile: deployment.key, trustedFile: deployment.certificate)
        let insider = try CometRPCClient(
            serverID: "comet-a", address: cometAddress, policy: policy, credentials: RPCCredentials(tls: deploymentTLS))
        try await insider.broadcastRoom(
            "live://good", unit: PushUnit(packet: Packet(operation: Operation(rawValue: 1000), body: ByteBuffer(string: "insider"))))
        await insider.close()
        var received: [String] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while !received.contains("insider"), ContinuousClock.now < deadline {
            if let packet = await client.inbox.next(timeout: .milliseconds(200)) { received.append(packet.text) }
        }
        received += await Self.drain(client)
        #expect(received == ["insider"], "only the caller with the deployment's certificate got through")
        await client.close()
    }

    @Test(
        "with [rpc] secret, calls to the comet and logic ports without it or with a wrong one are refused and deliver nothing; the deployment keeps delivering, and a token's grants cross the gRPC hop"
    )
    func rpcSecret() async throws {
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        let secret = "4f1c0e7d9a2b4c6e8f0a1b3c5d7e9f11"
        var layout = ClusterTests.Layout(redis: redis.addresses)
        layout.secret = secret
        layout.logicExtra = "[logic.auth]\nmode = \"jwt\"\njwt_secret = \"\(SecurityTests.secret)\"\njwt_audience = \"herald\""
        let b = layout.base
        let roles = try await SplitRoles(layout)
        defer { roles.stop() }
        let logic = roles.logic

        // The comet authenticates its client through logic's gRPC port: the secret is accepted.
        let client = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
        let token = try await SecurityTests.hs256(Claims(mid: 1, key: "good", room_id: "live://good", rooms: ["live://good"]))
        try await client.send(Packet(version: 1, operation: .auth, sequence: 1, body: ByteBuffer(string: token)))
        #expect(await client.inbox.next(timeout: .seconds(5))?.operation == .authReply)
        // The grants came back from logic over gRPC: a room outside them is refused.
        #expect(try await client.request(.changeRoom, "live://other").map { String(buffer: $0.body) } == "live://good")
        // The job reaches the comet: room pushes through the API arrive.
        try await Self.warmUp(client, logic: logic, "the deployment delivers with the secret")

        let policy = RPCCallPolicy(timeout: .seconds(2), attempts: 1)
        let cometAddress = "127.0.0.1:\(b + 9)"
        let attack = PushUnit(packet: Packet(operation: Operation(rawValue: 1000), body: ByteBuffer(string: "attack")))
        for credentials in [RPCCredentials.none, RPCCredentials(secret: "not-the-secret-but-long-enough")] {
            let intruder = try CometRPCClient(serverID: "comet-a", address: cometAddress, policy: policy, credentials: credentials)
            for attempt in 0..<3 {
                do {
                    switch attempt {
                    case 0: try await intruder.broadcastRoom("live://good", unit: attack)
                    case 1: try await intruder.push(keys: ["good"], operation: 1000, unit: attack)
                    default: try await intruder.broadcast(operation: 1000, unit: attack, speed: 0)
                    }
                    Issue.record("comet call \(attempt) without the secret was accepted")
                } catch let error as RPCError {
                    #expect(error.code == .permissionDenied, "comet call \(attempt): \(error)")
                }
            }
            await intruder.close()
            let forger = try LogicRPCClient(addresses: ["127.0.0.1:\(layout.logicRPC)"], policy: policy, credentials: credentials)
            do {
                _ = try await forger.connect(
                    server: "comet-a", cookie: "", token: Array(#"{"mid":2,"key":"forged","room_id":"live://good"}"#.utf8))
                Issue.record("logic accepted a Connect without the secret")
            } catch let error as RPCError {
                #expect(error.code == .permissionDenied, "logic Connect: \(error)")
            }
            await forger.close()
        }

        // The right secret is the only difference: the same call is accepted.
        let insider = try CometRPCClient(
            serverID: "comet-a", address: cometAddress, policy: policy, credentials: RPCCredentials(secret: secret))
        try await insider.broadcastRoom(
            "live://good", unit: PushUnit(packet: Packet(operation: Operation(rawValue: 1000), body: ByteBuffer(string: "insider"))))
        await insider.close()
        _ = try await logic.api.post("/goim/push/room?operation=1000&type=live&room=good", body: "after")
        // Collected until both arrived (the job may retry under load), then 500 ms more for strays.
        var received: [String] = []
        let deadline = ContinuousClock.now + .seconds(15)
        while !received.contains("after"), ContinuousClock.now < deadline {
            if let packet = await client.inbox.next(timeout: .milliseconds(200)) { received.append(packet.text) }
        }
        received += await Self.drain(client)
        #expect(received == ["insider", "after"], "nothing of the refused calls arrived, the good stream did")
        await client.close()
    }
}
