import HeraldProtocol
import HeraldTesting
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// Socket-level fuzzing: thousands of random and mutated packets over tcp and websocket while
/// well-behaved clients keep receiving a steady stream of room pushes.
@Suite("end to end: bad-input storm")
struct BadInputStormTests {
    /// A small deterministic generator, so a failure can be replayed from its seed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func validPacket(_ op: Operation, body: String, rng: inout SplitMix) -> [UInt8] {
        var b = ByteBuffer()
        b.writePacketHeader(bodyLength: body.utf8.count, version: 1, operation: op, sequence: Int32.random(in: 0...1000, using: &rng))
        b.writeString(body)
        return Array(b.readableBytesView)
    }

    /// One hostile message: garbage, a packet with mutated bytes, a lying length, or a truncation.
    static func hostile(_ rng: inout SplitMix) -> [UInt8] {
        // The body is a token this gateway refuses (it is not JSON): a hostile connection never
        // logs in. With `{"mid":1}`, 10 of the 2,000 messages were well-formed auths (only ver or
        // seq mutated), and a connection that logs in and sends nothing malformed after is a
        // legitimate session the server rightly keeps open: the likely cause of a loaded CI run's
        // 399 closes of 400.
        var p = validPacket([.auth, .heartbeat, .sub, .changeRoom][Int.random(in: 0..<4, using: &rng)], body: #"{"mid":1"#, rng: &rng)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            return (0..<Int.random(in: 1...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case 1:
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                p[Int.random(in: 0..<16, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            return p
        case 2:
            let lie = UInt32.random(in: 0...UInt32.max, using: &rng)
            p[0] = UInt8(lie >> 24); p[1] = UInt8((lie >> 16) & 0xFF); p[2] = UInt8((lie >> 8) & 0xFF); p[3] = UInt8(lie & 0xFF)
            return p
        case 3:
            p[4] = 0; p[5] = UInt8.random(in: 0...255, using: &rng)  // header length
            return p
        default:
            return Array(p.prefix(Int.random(in: 1..<p.count, using: &rng)))
                + [UInt8](repeating: 0xFF, count: Int.random(in: 0...64, using: &rng))
        }
    }

    /// A well-behaved client, authenticated. The storm's gateway closes unauthenticated connections
    /// after 1 s (so the harmless hostile ones end quickly); this test starts with the parallel
    /// suites, when dozens of gateways, child processes and a browser start on two cores, and a
    /// good client's connect-and-auth has been seen to take longer than that (the server closed
    /// it: "I/O on closed channel"). Such a client is set up again, up to three times; what the
    /// test asserts — every push reaches every good client — is unchanged.
    static func goodClient(_ g: Gateway, _ transport: TransportKind, _ token: AuthToken) async throws -> any GoimClient {
        for _ in 1..<3 {
            let c: any GoimClient
            do {
                c = transport == .tcp ? try await g.tcp() : try await g.ws()
                if try await c.authenticate(token) { return c }
            } catch {
                continue
            }
            await c.close()
        }
        return try await g.client(transport, token)
    }

    @Test("2,000 hostile messages on 400 connections: no crash, good clients get every push, server closes are counted")
    func storm() async throws {
        try await withGateway(gatewayTOML(handshake: "1s")) { g in
            var good: [any GoimClient] = []
            for i in 0..<4 {
                good.append(
                    try await Self.goodClient(
                        g, i % 2 == 0 ? .tcp : .websocket, AuthToken(mid: Int64(900 + i), roomID: "live://storm", accepts: [1000])))
            }
            let closedByServer = NIOLockedValueBox(0)
            let connectFailures = NIOLockedValueBox<[String]>([])
            // Good clients count every push of a room stream while the storm runs.
            try await withRoomStream(g.http, room: "storm", clients: good) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for batch in 0..<8 {
                        group.addTask {
                            for i in 0..<50 {
                                // One seed per connection: a connection skipped below (its connect
                                // refused on a loaded machine) does not change what the others send.
                                var rng = SplitMix(state: UInt64(batch * 50 + i) &* 7919 &+ 1)
                                let c: any GoimClient
                                do {
                                    c =
                                        i % 2 == 0
                                        ? try await GoimTCPClient.connect(host: "127.0.0.1", port: g.tcpPort)
                                        : try await GoimWebSocketClient.connect(host: "127.0.0.1", port: g.wsPort)
                                } catch is WebSocketUpgradeRefused {
                                    // On a loaded machine the 1 s handshake timeout can close a WebSocket
                                    // after its TCP connection was accepted but before its upgrade
                                    // completed: a server close (counted by the server too).
                                    closedByServer.withLockedValue { $0 += 1 }
                                    continue
                                } catch {
                                    connectFailures.withLockedValue { $0.append("\(error)") }  // never accepted: not a server close
                                    continue
                                }
                                for _ in 0..<5 { try? await c.sendRaw(ByteBuffer(bytes: Self.hostile(&rng))) }
                                // The handshake timeout (1 s) also closes what the server accepted as harmless.
                                // The wait is not a timing check: a parallel run was seen to take over 3 s
                                // to deliver one of these closes (399 of 400 seen) while the suites start.
                                if await c.inbox.waitForClose(timeout: .seconds(15)) {
                                    closedByServer.withLockedValue { $0 += 1 }
                                } else {
                                    await c.close()
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(try await g.http.get("/goim/online/total").code == 0, "the server is alive")
            let serverCloses = g.closes.filter { $0.key != "client_closed" }.values.reduce(0, +)
            #expect(
                connectFailures.withLockedValue { $0 }.isEmpty,
                "every hostile connection was accepted: \(connectFailures.withLockedValue { $0.prefix(3) })")
            #expect(closedByServer.withLockedValue { $0 } == 400, "every hostile connection was closed by the server")
            #expect(serverCloses >= 400, "each server close is counted by reason: \(g.closes)")
            for c in good { await c.close() }
        }
    }
}
