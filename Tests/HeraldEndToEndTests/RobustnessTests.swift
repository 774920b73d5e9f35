import HeraldProtocol
import HeraldTesting
import NIOCore
import NIOWebSocket
import Testing

@Suite("end to end: timeouts, bad input and slow clients", .serialized)
struct RobustnessTests {

    @Test("a connection that never authenticates is closed after the handshake timeout")
    func handshakeTimeout() async throws {
        try await withGateway(gatewayTOML(handshake: "200ms")) { gw in
            let tcp = try await gw.tcp()
            // The deadline starts when the server has upgraded the socket. On a loaded machine
            // the client can be slower than 200 ms to act on the 101 response; the server's close
            // then reaches it first and the upgrade fails with no status. Either way the server
            // closed the socket, and the count below says why.
            let wsClosed: Bool
            do {
                let ws = try await gw.ws()
                wsClosed = await ws.inbox.waitForClose(timeout: .seconds(3))
            } catch let refused as WebSocketUpgradeRefused where refused.status == 0 {
                wsClosed = true
            }
            #expect(await tcp.inbox.waitForClose(timeout: .seconds(3)))
            #expect(wsClosed)
            #expect(await eventually { gw.closes["handshake_timeout"] == 2 }, "close reason handshake_timeout counted")
        }
    }

    @Test("a connection without heartbeats is closed; one with heartbeats stays")
    func heartbeatTimeout() async throws {
        // 1 s without a heartbeat closes; the live client beats every ~150 ms until the test ends
        // (not only for a fixed while), so slow checks on a loaded machine cannot starve it.
        try await withGateway(gatewayTOML(logic: "heartbeat = \"1s\"\nheartbeat_max = 1")) { gw in
            let silent = try await gw.client(.tcp, AuthToken(mid: 1, accepts: [1000]))
            let alive = try await gw.client(.websocket, AuthToken(mid: 2, key: "alive", accepts: [1000]))
            #expect(try await alive.heartbeat() != nil)
            let beats = Task {
                while !Task.isCancelled {
                    try? await alive.send(Packet(version: 1, operation: .heartbeat, sequence: 2))
                    try? await Task.sleep(for: .milliseconds(150))
                }
            }
            defer { beats.cancel() }
            try await Task.sleep(for: .milliseconds(2_250))
            #expect(await eventually { silent.inbox.isClosed })
            #expect(!alive.inbox.isClosed)
            #expect(await eventually { gw.closes["heartbeat_timeout"] == 1 }, "close reason heartbeat_timeout counted")
            _ = try await gw.http.post("/goim/push/keys?operation=1000&keys=alive", body: "still here")
            var pushed: String?
            while pushed == nil, let p = await alive.inbox.next() {
                if p.operation.rawValue == 1000 { pushed = p.text }  // heartbeat replies in between are skipped
            }
            #expect(pushed == "still here")
            beats.cancel()
            await alive.close()
        }
    }

    static let malformed: [(String, [Int32])] = [
        ("bad_header_length", [20, 20 << 16 | 1, 2, 0]),
        ("packet_too_short", [8, 16 << 16 | 1, 2, 0]),
        ("body_too_large", [16 + 5000, 16 << 16 | 1, 4, 0]),
    ]

    @Test("malformed packets close that one connection with a counted reason", arguments: malformed)
    func malformedTCP(reason: String, words: [Int32]) async throws {
        try await withGateway { gw in
            let good = try await gw.client(.tcp, AuthToken(mid: 1, key: "good", accepts: [1000]))
            let bad = try await gw.tcp()
            var bytes = ByteBuffer()
            for w in words { bytes.writeInteger(w) }
            try await bad.sendRaw(bytes)
            #expect(await bad.inbox.waitForClose())
            #expect(gw.closes[reason] == 1)
            _ = try await gw.http.post("/goim/push/keys?operation=1000&keys=good", body: "unaffected")
            #expect(await good.inbox.next()?.text == "unaffected")
            await good.close()
        }
    }

    @Test("a WebSocket message whose packet length disagrees with it closes that connection (goim crashes)")
    func malformedWebSocket() async throws {
        try await withGateway { gw in
            let good = try await gw.client(.websocket, AuthToken(mid: 1, key: "good", accepts: [1000]))
            let bad = try await gw.client(.websocket, AuthToken(mid: 2, key: "bad", accepts: [1000]))
            var lying = ByteBuffer()
            lying.writeMultipleIntegers(Int32(4000), Int16(16), Int16(1), Int32(2), Int32(0))
            try await bad.sendRaw(lying)
            #expect(await bad.inbox.waitForClose())
            #expect(await eventually { gw.closes["length_mismatch"] == 1 }, "close reason length_mismatch counted")

            let tiny = try await gw.ws()
            try await tiny.sendRaw(ByteBuffer(bytes: [1, 2, 3]))
            #expect(await tiny.inbox.waitForClose())
            #expect(await eventually { gw.closes["truncated_packet"] == 1 }, "close reason truncated_packet counted")

            _ = try await gw.http.post("/goim/push/keys?operation=1000&keys=good", body: "unaffected")
            #expect(await good.inbox.next()?.text == "unaffected")
            await good.close()
        }
    }

    @Test("a WebSocket ping leaves the packet stream working; a close frame closes the connection")
    func webSocketControlFrames() async throws {
        try await withGateway { gw in
            let c = try await gw.client(.websocket, AuthToken(mid: 1, key: "ctl", accepts: [1000]))
            try await (c as! GoimWebSocketClient).sendFrame(
                WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(), data: ByteBuffer(string: "p")))
            #expect(try await c.heartbeat() != nil)
            try await (c as! GoimWebSocketClient).sendFrame(
                WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: ByteBuffer(bytes: [0x03, 0xE8])))
            #expect(await c.inbox.waitForClose())
        }
    }

    @Test("a fragmented WebSocket message is reassembled; a stray continuation closes the connection")
    func webSocketFragments() async throws {
        try await withGateway { gw in
            let c = try await gw.ws()
            var packet = ByteBuffer()
            packet.writePacket(Packet(operation: .auth, sequence: 1, body: ByteBuffer(bytes: AuthToken(mid: 9, key: "frag").jsonBytes())))
            let first = packet.getSlice(at: 0, length: 10)!
            let rest = packet.getSlice(at: 10, length: packet.readableBytes - 10)!
            try await c.sendFrame(WebSocketFrame(fin: false, opcode: .binary, maskKey: .random(), data: first))
            try await c.sendFrame(WebSocketFrame(fin: true, opcode: .continuation, maskKey: .random(), data: rest))
            #expect(await c.inbox.next()?.operation == .authReply)

            let stray = try await gw.ws()
            try await stray.sendFrame(WebSocketFrame(fin: true, opcode: .continuation, maskKey: .random(), data: rest))
            #expect(await stray.inbox.waitForClose())
            await c.close()
        }
    }

    @Test("plain HTTP on the WebSocket port is refused; upgrading at another path fails")
    func webSocketWrongRequests() async throws {
        try await withGateway { gw in
            await #expect(throws: WebSocketUpgradeRefused.self) {
                _ = try await GoimWebSocketClient.connect(host: "127.0.0.1", port: gw.wsPort, path: "/other")
            }
            let ok = try await GoimWebSocketClient.connect(host: "127.0.0.1", port: gw.wsPort, path: "/sub?v=1")
            #expect(try await ok.authenticate(AuthToken(mid: 3)))
            await ok.close()
        }
    }

    @Test("an invalid auth token closes the connection")
    func badToken() async throws {
        try await withGateway { gw in
            let c = try await gw.tcp()
            try await c.send(Packet(operation: .auth, body: ByteBuffer(string: "{not json")))
            #expect(await c.inbox.waitForClose())
            #expect(await eventually { gw.closes["auth_failed"] == 1 }, "close reason auth_failed counted")
            #expect(await eventually { gw.server.comet.metrics.snapshot().authFailed == 1 })
        }
    }

    @Test("a client that never reads does not stall the others and its queue stays bounded (drop policy)")
    func slowConsumerDrop() async throws {
        try await withGateway(gatewayTOML(comet: "outbound_buffer_bytes = 65536\nslow_consumer = \"drop\"", sendBuffer: 4096)) { gw in
            let slow = try await GoimTCPClient.connect(host: "127.0.0.1", port: gw.tcpPort, receiveBuffer: 4096)
            #expect(try await slow.authenticate(AuthToken(mid: 1, roomID: "r://1")))
            let fast = try await gw.client(.websocket, AuthToken(mid: 2, roomID: "r://1"))
            try await slow.pauseReading()
            let body = String(repeating: "x", count: 4000)
            let count = 400  // 1.6 MB to a client that reads nothing
            var received = 0
            for i in 0..<count {
                let r = try await gw.http.post("/goim/push/room?operation=1000&type=r&room=1", body: "\(i):" + body)
                #expect(r.code == 0)
                while let p = await fast.inbox.next(timeout: .milliseconds(1)) {
                    #expect(p.text.hasPrefix("\(received):"))
                    received += 1
                }
            }
            while received < count, let p = await fast.inbox.next() {
                #expect(p.text.hasPrefix("\(received):"))
                received += 1
            }
            #expect(received == count, "the reading client got every message, in order")
            let metrics = gw.server.comet.metrics.snapshot()
            #expect(metrics.dropped > 0, "messages for the stalled client were dropped and counted")
            #expect(!slow.inbox.isClosed)
            await slow.close()
            await fast.close()
        }
    }

    @Test("with the disconnect policy a client that never reads is closed and counted")
    func slowConsumerDisconnect() async throws {
        try await withGateway(gatewayTOML(comet: "outbound_buffer_bytes = 65536\nslow_consumer = \"disconnect\"", sendBuffer: 4096)) { gw in
            let slow = try await GoimWebSocketClient.connect(host: "127.0.0.1", port: gw.wsPort, receiveBuffer: 4096)
            #expect(try await slow.authenticate(AuthToken(mid: 1, roomID: "r://1")))
            try await slow.pauseReading()
            let body = String(repeating: "y", count: 4000)
            for _ in 0..<400 where gw.closes["slow_consumer"] == nil {
                _ = try await gw.http.post("/goim/push/room?operation=1000&type=r&room=1", body: body)
            }
            #expect(await eventually { gw.closes["slow_consumer"] == 1 })
            try await slow.resumeReading()
            #expect(await slow.inbox.waitForClose(), "the client sees the close once it reads again")
        }
    }
}
