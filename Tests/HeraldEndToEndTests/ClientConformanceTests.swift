import Foundation
import HeraldClient
import HeraldProtocol
import HeraldTesting
import NIOConcurrencyHelpers
import NIOSSL
import Testing

/// The client conformance suite for the Swift library (`HeraldClient`), against real gateways:
/// auth, heartbeat, push by key, user, room and to all, op filtering, room changes, a server that
/// drops the connection (reconnect and recovery), a server down at first, a refused token, a drain.
/// The JavaScript package runs the same behaviours in headless Chromium (`JSClientConformanceTests`).
@Suite("client conformance: Swift")
struct ClientConformanceTests {
    /// A client's messages and states as they arrive, read by a task of their own.
    final class Recorder: Sendable {
        let client: HeraldClient
        private let received = NIOLockedValueBox<[HeraldMessage]>([])
        private let seen = NIOLockedValueBox<[HeraldClientState]>([])
        private let readers: [Task<Void, Never>]

        init(_ client: HeraldClient) {
            self.client = client
            let received = self.received
            let seen = self.seen
            readers = [
                Task { for await m in client.messages { received.withLockedValue { $0.append(m) } } },
                Task { for await s in client.states { seen.withLockedValue { $0.append(s) } } },
            ]
        }

        var messages: [HeraldMessage] { received.withLockedValue { $0 } }
        var texts: [String] { messages.map(\.text) }
        var states: [HeraldClientState] { seen.withLockedValue { $0 } }

        /// Waits up to `timeout` for `count` messages, then 300 ms more for strays.
        func texts(count: Int, timeout: Duration = .seconds(10)) async -> [String] {
            _ = await eventually(timeout: timeout) { self.messages.count >= count }
            try? await Task.sleep(for: .milliseconds(300))
            return texts
        }

        func close() async {
            await client.close()
            for r in readers { await r.value }
        }
    }

    static func configuration(
        _ endpoints: [HeraldEndpoint], backoff: ReconnectBackoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(1))
    )
        -> HeraldClient.Configuration
    {
        HeraldClient.Configuration(endpoints: endpoints, heartbeatInterval: .seconds(5), backoff: backoff, authTimeout: .seconds(10))
    }

    static func endpoint(_ gw: Gateway, _ transport: HeraldEndpoint.Transport) -> HeraldEndpoint {
        transport == .tcp ? .tcp(host: "127.0.0.1", port: gw.tcpPort) : .websocket(host: "127.0.0.1", port: gw.wsPort)
    }

    static func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8))" }

    @Test(
        "auth, then a push to its key, its user, its room and to all arrives once each",
        arguments: [HeraldEndpoint.Transport.tcp, .websocket])
    func pushes(transport: HeraldEndpoint.Transport) async throws {
        try await withGateway(gatewayTOML()) { gw in
            let key = Self.unique("key")
            let room = Self.unique("room")
            let client = Recorder(HeraldClient(configuration: Self.configuration([Self.endpoint(gw, transport)])))
            try await client.client.connect(token: HeraldToken(mid: 7001, key: key, roomID: "live://\(room)", accepts: [1000]))
            guard case .connected(let endpoint, _) = await client.client.state else {
                Issue.record("connect returned without a connection")
                return
            }
            #expect(endpoint == Self.endpoint(gw, transport))
            #expect(try await gw.http.post("/goim/push/keys?operation=1000&keys=\(key)", body: "to key").code == 0)
            #expect(try await gw.http.post("/goim/push/mids?operation=1000&mids=7001", body: "to user").code == 0)
            #expect(try await gw.http.post("/goim/push/room?operation=1000&type=live&room=\(room)", body: "to room").code == 0)
            #expect(try await gw.http.post("/goim/push/all?operation=1000", body: "to all").code == 0)
            #expect(Set(await client.texts(count: 4)) == ["to key", "to user", "to room", "to all"])
            #expect(client.messages.count == 4, "\(client.texts)")
            #expect(client.messages.allSatisfy { $0.operation == 1000 })
            await client.close()
            #expect(await client.client.state == .stopped(.closed))
        }
    }

    @Test("op filtering: pushes of an op not accepted are not delivered until subscribed, and not after unsubscribing")
    func filtering() async throws {
        try await withGateway(gatewayTOML()) { gw in
            let client = Recorder(HeraldClient(configuration: Self.configuration([Self.endpoint(gw, .websocket)])))
            try await client.client.connect(token: HeraldToken(mid: 7002, accepts: [1000]))
            let push: (Int, String) async throws -> Void = { op, text in
                let code = try await gw.http.post("/goim/push/mids?operation=\(op)&mids=7002", body: text).code
                #expect(code == 0)
            }
            try await push(1001, "filtered")
            try await push(1000, "marker 1")
            #expect(await client.texts(count: 1) == ["marker 1"])
            #expect(try await client.client.subscribe(ops: [1001]) == [1001])
            try await push(1001, "subscribed")
            #expect(await client.texts(count: 2) == ["marker 1", "subscribed"])
            try await client.client.unsubscribe(ops: [1001])
            try await push(1001, "filtered again")
            try await push(1000, "marker 2")
            #expect(await client.texts(count: 3) == ["marker 1", "subscribed", "marker 2"])
            await client.close()
        }
    }

    @Test("a room change moves the connection, and the client keeps the new room when it reconnects")
    func changeRoom() async throws {
        try await withGateway(gatewayTOML()) { gw in
            let key = Self.unique("key")
            let (first, second) = (Self.unique("first"), Self.unique("second"))
            let client = Recorder(HeraldClient(configuration: Self.configuration([Self.endpoint(gw, .tcp)])))
            try await client.client.connect(token: HeraldToken(mid: 7003, key: key, roomID: "live://\(first)", accepts: [1000]))
            #expect(try await client.client.changeRoom("live://\(second)") == "live://\(second)")
            #expect(try await gw.http.post("/goim/push/room?operation=1000&type=live&room=\(first)", body: "old room").code == 0)
            #expect(try await gw.http.post("/goim/push/room?operation=1000&type=live&room=\(second)", body: "new room 1").code == 0)
            #expect(await client.texts(count: 1) == ["new room 1"])
            // The server drops the connection (a second connection with its key replaces it).
            let intruder = try await gw.tcp()
            #expect(try await intruder.authenticate(AuthToken(key: key)))
            #expect(await eventually(timeout: .seconds(10)) { await client.client.connectionsAccepted == 2 })
            await intruder.close()
            #expect(try await gw.http.post("/goim/push/room?operation=1000&type=live&room=\(second)", body: "new room 2").code == 0)
            #expect(await client.texts(count: 2) == ["new room 1", "new room 2"])
            await client.close()
        }
    }

    @Test("heartbeats keep the connection past the server's heartbeat timeout; a client that does not send them is closed")
    func heartbeat() async throws {
        // The server closes a connection after 2 s × 2 without a heartbeat.
        try await withGateway(gatewayTOML(logic: "heartbeat = \"2s\"\nheartbeat_max = 2")) { gw in
            let room = Self.unique("room")
            var beating = Self.configuration([Self.endpoint(gw, .tcp)])
            beating.heartbeatInterval = .milliseconds(300)
            var silent = beating
            silent.heartbeatInterval = .seconds(60)
            let good = Recorder(HeraldClient(configuration: beating))
            let quiet = Recorder(HeraldClient(configuration: silent))
            try await good.client.connect(token: HeraldToken(mid: 7004, roomID: "live://\(room)"))
            try await quiet.client.connect(token: HeraldToken(mid: 7005, roomID: "live://\(room)"))
            try await Task.sleep(for: .seconds(7))
            #expect(await good.client.connectionsAccepted == 1, "the beating client kept its one connection")
            #expect(await quiet.client.connectionsAccepted >= 2, "the silent client was closed by the server and came back")
            #expect(await eventually { (gw.closes["heartbeat_timeout"] ?? 0) >= 1 }, "\(gw.closes)")
            // The heartbeat reply carries the room's online count (reported every 100 ms here).
            #expect(await eventually { (try? await good.client.heartbeat()) == 2 })
            #expect(await good.client.roomOnline == 2)
            await good.close()
            await quiet.close()
        }
    }

    @Test("the server drops the connection: the client reconnects with backoff and recovers what it missed, once each, in order")
    func dropAndRecover() async throws {
        try await withGateway(gatewayTOML(extra: "[history]\nenabled = true")) { gw in
            let key = Self.unique("key")
            let room = Self.unique("room")
            // A fixed 20 s wait before the reconnect, so the pushes below find the client away
            // (checked below: no second attempt had begun when they were through). 5 s was too
            // short on 2 cores while the whole suite starts at once: the intruder's close and
            // seven pushes with history took longer, and the client was back before the last.
            let backoff = ReconnectBackoff(initial: .seconds(20), maximum: .seconds(20), jitter: 0)
            let client = Recorder(HeraldClient(configuration: Self.configuration([Self.endpoint(gw, .websocket)], backoff: backoff)))
            try await client.client.connect(token: HeraldToken(mid: 7006, key: key, roomID: "live://\(room)", accepts: [1000]))
            let push: (String) async throws -> Void = { text in
                let code = try await gw.http.post("/goim/push/room?operation=1000&type=live&room=\(room)", body: text).code
                #expect(code == 0)
            }
            for i in 0..<3 { try await push("r\(i)") }
            #expect(await client.texts(count: 3) == ["r0", "r1", "r2"])
            let intruder = try await gw.tcp()
            #expect(try await intruder.authenticate(AuthToken(key: key)))
            #expect(await eventually(timeout: .seconds(10)) { if case .waiting = await client.client.state { true } else { false } })
            await intruder.close()
            for i in 3..<10 { try await push("r\(i)") }
            #expect(await client.client.connectionAttempts == 1, "the client was away while r3…r9 were pushed: they come from history")
            #expect(await client.texts(count: 10, timeout: .seconds(45)) == (0..<10).map { "r\($0)" })
            #expect(await client.client.connectionsAccepted == 2)
            let connected = client.states.filter { if case .connected = $0 { true } else { false } }
            #expect(
                connected.count == 2 && connected[1] == .connected(endpoint: Self.endpoint(gw, .websocket), recovered: true),
                "\(client.states)")
            #expect(client.messages.map(\.stream) == Array(repeating: .room, count: 10))
            #expect(client.messages.map(\.offset) == Array(1...10).map(UInt64.init), "room offsets 1…10")
            #expect((gw.closes["replaced_by_same_key"] ?? 0) >= 1, "the server closed the first connection: \(gw.closes)")
            await client.close()
        }
    }

    @Test("a server down at first: the client retries within its backoff bounds and connects once the server is up")
    func serverDownAtFirst() async throws {
        let base = TestPorts.block()
        let backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .milliseconds(400), multiplier: 2, jitter: 0.5)
        let client = Recorder(HeraldClient(configuration: Self.configuration([.tcp(host: "127.0.0.1", port: base + 1)], backoff: backoff)))
        let connected = Task { try await client.client.connect(token: HeraldToken(mid: 7007, accepts: [1000])) }
        #expect(
            await eventually(timeout: .seconds(10)) { await client.client.connectionAttempts >= 3 },
            "the client retries while nothing listens")
        let child = try await HeraldChild(base: base) { HeraldChild.baseTOML($0) }
        try await connected.value
        #expect(await client.client.connectionsAccepted == 1)
        let waits = client.states.compactMap { state -> Duration? in
            if case .waiting(let d) = state { d } else { nil }
        }
        #expect(waits.count >= 2)
        #expect(waits.allSatisfy { $0 >= .milliseconds(50) && $0 <= .milliseconds(400) }, "every wait within the bounds: \(waits)")
        #expect(try await child.api.post("/goim/push/mids?operation=1000&mids=7007", body: "up").code == 0)
        #expect(await client.texts(count: 1) == ["up"])
        await client.close()
        child.stop()
    }

    @Test("a refused token: the client stops after maxAuthRefusals attempts instead of retrying forever")
    func refusedToken() async throws {
        let toml = gatewayTOML(
            logic: "[logic.auth]\nmode = \"jwt\"\njwt_algorithm = \"HS256\"\njwt_secret = \"a-test-secret-of-at-least-32-bytes\"")
        try await withGateway(toml) { gw in
            var configuration = Self.configuration(
                [Self.endpoint(gw, .websocket)], backoff: ReconnectBackoff(initial: .milliseconds(50), maximum: .milliseconds(100)))
            configuration.maxAuthRefusals = 3
            let client = Recorder(HeraldClient(configuration: configuration))
            await #expect(throws: HeraldClientError.authRefused(attempts: 3)) {
                try await client.client.connect(token: .jwt("not.a.token"))
            }
            #expect(await client.client.state == .stopped(.authRefused(attempts: 3)))
            #expect(await eventually { (gw.closes["auth_failed"] ?? 0) == 3 }, "\(gw.closes)")
            try await Task.sleep(for: .seconds(1))
            #expect(await client.client.connectionAttempts == 3)
            #expect(gw.closes["auth_failed"] == 3, "no attempt after the client stopped: \(gw.closes)")
            await #expect(throws: HeraldClientError.authRefused(attempts: 3)) { try await client.client.heartbeat() }
            await client.close()
        }
    }

    @Test("a drain: the server says op 6 and the client reconnects to the next endpoint")
    func drain() async throws {
        let drained = gatewayTOML().replacingOccurrences(of: "drain_window = \"0s\"", with: "drain_window = \"200ms\"")
        try await withGateway(gatewayTOML()) { other in
            try await withGateway(drained) { leaving in
                let client = Recorder(
                    HeraldClient(configuration: Self.configuration([Self.endpoint(leaving, .tcp), Self.endpoint(other, .tcp)])))
                try await client.client.connect(token: HeraldToken(mid: 7008, accepts: [1000]))
                #expect(await client.client.state == .connected(endpoint: Self.endpoint(leaving, .tcp), recovered: true))
                await leaving.server.shutdown()
                #expect(
                    await eventually(timeout: .seconds(10)) {
                        await client.client.state == .connected(endpoint: Self.endpoint(other, .tcp), recovered: true)
                    }, "\(client.states)")
                #expect((leaving.closes["server_shutdown"] ?? 0) == 1)
                // Told op 6, the client went straight to the next endpoint: no attempt at the leaving one.
                let leavingAttempts = client.states.filter {
                    if case .connecting(let endpoint, _) = $0 { endpoint == Self.endpoint(leaving, .tcp) } else { false }
                }
                #expect(leavingAttempts.count == 1, "\(client.states)")
                #expect(client.states.contains(.connecting(endpoint: Self.endpoint(other, .tcp), attempt: 0)), "\(client.states)")
                #expect(try await other.http.post("/goim/push/mids?operation=1000&mids=7008", body: "elsewhere").code == 0)
                #expect(await client.texts(count: 1) == ["elsewhere"])
                await client.close()
            }
        }
    }

    @Test("TLS: raw TCP in TLS and wss, trusting the server's certificate; a client that does not trust it is never connected")
    func tls() async throws {
        let cert = try TLSTests.TestCertificate()
        defer { cert.remove() }
        try cert.issue("herald-client-test")
        var trusting = TLSConfiguration.makeClientConfiguration()
        trusting.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(cert.pem))
        try await withGateway(TLSTests.config(cert)) { gw in
            let room = Self.unique("room")
            let endpoints: [HeraldEndpoint] = [
                .tcp(host: "127.0.0.1", port: gw.tcpPort, tls: true), .websocket(host: "127.0.0.1", port: gw.wsPort, tls: true),
            ]
            let clients = endpoints.map { Recorder(HeraldClient(configuration: Self.configuration([$0]), tlsConfiguration: trusting)) }
            for (i, c) in clients.enumerated() {
                try await c.client.connect(token: HeraldToken(mid: Int64(7100 + i), roomID: "live://\(room)", accepts: [1000]))
            }
            let api = try TLSTests.https(cert)
            let answer = try await TLSTests.push(
                api, port: gw.apiPort, "/goim/push/room?operation=1000&type=live&room=\(room)", body: "over tls")
            try await api.shutdown()
            #expect(answer.contains(#""code":0"#), "\(answer)")
            for c in clients {
                #expect(await c.texts(count: 1) == ["over tls"])
                await c.close()
            }
            // The system's trust roots do not include the test certificate: every handshake fails.
            let untrusting = Recorder(
                HeraldClient(configuration: Self.configuration([endpoints[0]]), tlsConfiguration: .makeClientConfiguration()))
            let attempt = Task { try await untrusting.client.connect(token: HeraldToken(mid: 7199)) }
            #expect(await eventually(timeout: .seconds(10)) { await untrusting.client.connectionAttempts >= 3 })
            #expect(await untrusting.client.connectionsOpened == 0, "a failed handshake is an unreachable server")
            #expect(await untrusting.client.connectionsAccepted == 0)
            if case .stopped = await untrusting.client.state { Issue.record("a failed handshake is not a refused token") }
            await untrusting.close()
            await #expect(throws: HeraldClientError.closed) { try await attempt.value }
        }
    }
}
