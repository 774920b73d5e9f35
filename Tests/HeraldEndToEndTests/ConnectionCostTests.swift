import Foundation
import HeraldProtocol
import HeraldTesting
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// What one connection can cost the server, attempted against a real `herald serve` process while
/// good clients count a room stream: clients that send but never read, packet floods, slow-loris
/// sockets on every HTTP-based transport, and per-IP limits on long-poll and SSE.
@Suite("end to end: bounded cost per connection", .serialized)
struct ConnectionCostTests {
    /// The child's resident memory in KiB (`VmRSS`).
    static func residentKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// Raises this process's open-file limit to its hard limit (the slow-loris run holds thousands).
    static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    static func packet(_ op: HeraldProtocol.Operation, _ body: String = "", sequence: Int32 = 1) -> [UInt8] {
        var b = ByteBuffer()
        b.writePacketHeader(bodyLength: body.utf8.count, version: 1, operation: op, sequence: sequence)
        b.writeString(body)
        return Array(b.readableBytesView)
    }

    static func serveTOML(_ base: Int, comet: String) -> String {
        """
        [server]
        id = "cost"
        [log]
        level = "error"
        [comet]
        drain_window = "0s"
        \(comet)
        [logic]
        listen = "127.0.0.1:\(base + 11)"
        [transport.tcp]
        listen = "127.0.0.1:\(base + 1)"
        sndbuf = 8192
        rcvbuf = 8192
        [transport.websocket]
        listen = "127.0.0.1:\(base + 2)"
        sndbuf = 8192
        rcvbuf = 8192
        [transport.longpoll]
        listen = "127.0.0.1:\(base + 4)"
        [transport.sse]
        listen = "127.0.0.1:\(base + 5)"

        """
    }

    @Test(
        "clients that flood heartbeats and WebSocket pings but never read are not read either: server memory stays bounded, good clients lose nothing"
    )
    func neverReadingClients() async throws {
        // No packet-rate limit here: what bounds the replies is that an unwritable connection is not read.
        let child = try await HeraldChild(
            base: TestPorts.block(), config: { Self.serveTOML($0, comet: "packet_rate = 0\noutbound_buffer_bytes = 16384") })
        defer { child.stop() }
        let b = child.base
        let good = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
        #expect(try await good.authenticate(AuthToken(mid: 1, key: "good", roomID: "live://good", accepts: [1000])))
        let goodWS = try await GoimWebSocketClient.connect(host: "127.0.0.1", port: b + 2)
        #expect(try await goodWS.authenticate(AuthToken(mid: 2, key: "good-ws", roomID: "live://good", accepts: [1000])))
        let before = Self.residentKiB(child.pid)
        var sentMiB = 0.0
        try await withRoomStream(child.api, room: "good", clients: [good, goodWS]) {
            var attackers: [(LoopbackSocket, [UInt8])] = []
            for i in 0..<20 {
                // Small buffers on both ends, so what is sent and answered backs up in the server's
                // memory and not in the kernel's.
                let s = try LoopbackSocket(port: b + (i % 2 == 0 ? 1 : 2), bufferSize: 4096)
                if i % 2 == 0 {
                    s.send(Self.packet(.auth, #"{"mid":\#(100 + i),"room_id":"live://flood"}"#))
                    let (reply, _) = s.read { $0.count >= 16 }
                    try #require(reply.count >= 16, "tcp attacker \(i) authenticated")
                    attackers.append((s, Array((0..<4096).map { _ in Self.packet(.heartbeat) }.joined())))
                } else {
                    let head = WebSocketFramingTests.upgrade(s)
                    try #require(head.hasPrefix("HTTP/1.1 101"), "ws attacker \(i) upgraded: \(head)")
                    s.send(WebSocketFramingTests.frame(opcode: 0x2, payload: Self.packet(.auth, #"{"mid":\#(100 + i)}"#)))
                    let (reply, _) = s.read { $0.count >= 18 }
                    try #require(reply.count >= 18, "ws attacker \(i) authenticated")
                    let ping = WebSocketFramingTests.frame(opcode: 0x9, payload: [UInt8](repeating: 0x61, count: 125))
                    attackers.append((s, Array((0..<512).map { _ in ping }.joined())))
                }
            }
            // Each attacker offers 4 MiB; the server stops taking it once its replies back up.
            let deadline = ContinuousClock.now + .seconds(10)
            var sent = [Int](repeating: 0, count: attackers.count)
            while ContinuousClock.now < deadline, sent.contains(where: { $0 < 4 << 20 }) {
                var progressed = false
                for (i, (socket, chunk)) in attackers.enumerated() where sent[i] < 4 << 20 {
                    let n = socket.sendWithoutWaiting(chunk)
                    sent[i] += n
                    progressed = progressed || n > 0
                }
                // Never a busy loop: the room stream and the server share these two cores.
                try await Task.sleep(for: .milliseconds(progressed ? 1 : 5))
            }
            sentMiB = Double(sent.reduce(0, +)) / 1_048_576
            try await Task.sleep(for: .milliseconds(500))
            withExtendedLifetime(attackers) {}
        }
        let growth = Self.residentKiB(child.pid) - before
        print(
            "never-reading flood: 20 clients offered 80 MiB, the server took \(String(format: "%.1f", sentMiB)) MiB; its memory grew \(growth) KiB"
        )
        // Answered in full, 80 MiB of heartbeats and pings would be about 90 MiB of replies held for
        // clients that never read them.
        #expect(growth < 24 * 1024, "server memory grew \(growth) KiB")
        #expect(sentMiB < 40, "the server stopped reading: it took \(sentMiB) MiB of 80")
        #expect(try await child.api.get("/goim/online/total").code == 0, "the server is alive")
        await good.close()
        await goodWS.close()
    }

    @Test("a client over the packet rate is closed with a counted reason; others are not affected")
    func packetRate() async throws {
        try await withGateway(gatewayTOML(comet: "packet_rate = 50\npacket_burst = 100")) { g in
            let calm = try await g.client(.tcp, AuthToken(mid: 1, key: "calm", roomID: "live://r", accepts: [1000]))
            let flood = try await g.client(.tcp, AuthToken(mid: 2, key: "flood", accepts: [1000]))
            try await flood.sendRaw(ByteBuffer(bytes: Array((0..<1000).map { Self.packet(.heartbeat, sequence: Int32($0)) }.joined())))
            #expect(await flood.inbox.waitForClose(timeout: .seconds(5)), "the flooding client was closed")
            #expect(await eventually { g.closes["packet_rate_exceeded"] == 1 }, "\(g.closes)")
            for _ in 0..<20 { #expect(try await calm.heartbeat() != nil, "a calm client is served") }
            #expect(try await g.http.post("/goim/push/room?operation=1000&type=live&room=r", body: "still here").code == 0)
            var last: Packet?
            while let p = await calm.inbox.next(timeout: .seconds(2)) {
                last = p
                if p.text == "still here" { break }
            }
            #expect(last?.text == "still here")
            await calm.close()
        }
    }

    @Test(
        "5,000 slow-loris sockets on each HTTP-based transport are closed by the request timeout, server memory stays bounded, good clients lose nothing",
        arguments: ["websocket", "longpoll", "sse"])
    func slowLoris(transport: String) async throws {
        Self.raiseOpenFileLimit()
        let child = try await HeraldChild(base: TestPorts.block(), config: { Self.serveTOML($0, comet: "request_timeout = \"1s\"") })
        defer { child.stop() }
        let b = child.base
        let port = b + ["websocket": 2, "longpoll": 4, "sse": 5][transport]!
        let partial: [UInt8] = Array(
            [
                "websocket": "GET /sub HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n",
                "longpoll": "POST /sub/auth HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"mid\":",
                "sse": "GET /sse/events?token=%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow:",
            ][transport]!.utf8
        )
        let tcp = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
        #expect(try await tcp.authenticate(AuthToken(mid: 1, key: "t", roomID: "live://good", accepts: [1000])))
        let ws = try await GoimWebSocketClient.connect(host: "127.0.0.1", port: b + 2)
        #expect(try await ws.authenticate(AuthToken(mid: 2, key: "w", roomID: "live://good", accepts: [1000])))
        let before = Self.residentKiB(child.pid)
        var peak = before
        var closed = 0
        var opened = 0
        try await withRoomStream(child.api, room: "good", clients: [tcp, ws]) {
            var sockets: [LoopbackSocket] = []
            for _ in 0..<5000 {
                guard let s = try? LoopbackSocket(port: port) else { continue }
                s.send(partial)
                sockets.append(s)
                if sockets.count % 500 == 0 { await Task.yield() }
            }
            opened = sockets.count
            peak = max(peak, Self.residentKiB(child.pid))
            // One more byte every 200 ms: a slow-loris client keeps the request going. (The wait is
            // long only for a loaded machine; the timeout itself is 1 s.)
            let deadline = ContinuousClock.now + .seconds(30)
            var open = sockets
            while ContinuousClock.now < deadline {
                open.removeAll(where: \.peerClosed)
                closed = sockets.count - open.count
                if open.isEmpty { break }
                for s in open { _ = s.sendWithoutWaiting([0x61]) }
                peak = max(peak, Self.residentKiB(child.pid))
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        print(
            "slow-loris on \(transport): \(opened) sockets opened, \(closed) closed by the server; server memory \(before) KiB before, \(peak) KiB at most (+\(peak - before) KiB)"
        )
        #expect(opened == 5000, "every socket was accepted")
        #expect(closed == opened, "the server closed every slow socket (\(closed) of \(opened))")
        #expect(peak - before < 64 * 1024, "server memory grew \(peak - before) KiB for \(opened) sockets")
        let metrics = try await HTTP1Client.request(host: "127.0.0.1", port: b + 11, method: .GET, path: "/metrics")
        let text = String(buffer: metrics.body)
        let line = text.split(separator: "\n").first {
            $0.hasPrefix("herald_connections_closed_total") && $0.contains(#"reason="request_timeout""#)
        }
        let counted = line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        #expect(counted >= Double(opened), "each timeout is counted: \(line.map(String.init) ?? "no request_timeout line")")
        for c in [tcp, ws] as [any GoimClient] { await c.close() }
    }

    @Test("max_connections_per_ip applies to long-poll and SSE sessions", arguments: [TransportKind.longpoll, .sse])
    func perIPLimits(transport: TransportKind) async throws {
        try await withGateway(gatewayTOML(comet: "max_connections_per_ip = 2")) { g in
            var admitted: [any GoimClient] = []
            for mid in 1...2 {
                admitted.append(
                    try await g.client(transport, AuthToken(mid: Int64(mid), key: "k\(mid)", roomID: "live://ip", accepts: [1000])))
            }
            let third =
                transport == .longpoll
                ? GoimLongPollClient(host: "127.0.0.1", port: g.longPollPort) as any GoimClient
                : GoimSSEClient(host: "127.0.0.1", port: g.ssePort)
            let accepted = try await third.authenticate(
                AuthToken(mid: 3, key: "k3", roomID: "live://ip", accepts: [1000]), timeout: .seconds(3))
            #expect(!accepted, "a third session from the same address is refused")
            #expect(await eventually { (g.closes["too_many_connections_from_ip"] ?? 0) >= 1 }, "\(g.closes)")
            _ = try await g.http.post("/goim/push/room?operation=1000&type=live&room=ip", body: "to the admitted")
            for c in admitted { #expect(await c.inbox.next()?.text == "to the admitted") }
            await third.close()
            for c in admitted { await c.close() }
        }
    }
}

extension ConnectionCostTests {
    @Test("a socket answered before its request body ended (404, 413) is still held to the request timeout afterwards")
    func earlyAnswerKeepsTheClock() async throws {
        try await withGateway(gatewayTOML(comet: "request_timeout = \"1s\"")) { g in
            for (port, request) in [
                (g.longPollPort, "POST /sub/nope HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n\r\n"),
                (g.ssePort, "POST /sse/nope HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n\r\n"),
            ] {
                let s = try LoopbackSocket(port: port, timeout: 6)
                s.send(Array(request.utf8))
                let (head, _) = s.read { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
                #expect(String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 404"), "answered before the body")
                // The body's last byte completes the request; the socket then idles without a next one.
                s.send([0x61])
                // (The socket gives up reading after 6 s: a close before that is the 1 s timeout's.)
                let (_, closed) = s.read { _ in false }
                #expect(closed, "the server closed the idle socket (port \(port))")
            }
        }
    }
}
