import Foundation
import HeraldApp
import HeraldCore
import HeraldHistoryMemory
import HeraldProtocol
import HeraldTesting
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// History and recovery on `herald serve` with the memory store, over real sockets: a client cut
/// off mid-stream (RST) reconnects and ends with every message exactly once, in order.
@Suite("Recovery")
struct RecoveryTests {
    static func toml(_ history: String = "") -> String {
        gatewayTOML(
            extra: """
                [history]
                enabled = true
                max_messages = 2000
                \(history)
                """)
    }

    /// A gateway whose history is the memory store behind `delay` before each read (a store
    /// under load).
    static func withSlowStore(delay: Duration, _ body: (Gateway) async throws -> Void) async throws {
        try await withSlowStore({ SlowReads($0, delay: delay) }, body)
    }

    static func withSlowStore(
        _ make: @escaping @Sendable (any HistoryStore) -> SlowReads, _ body: (Gateway) async throws -> Void
    ) async throws {
        var registry = BuiltInPlugins.registry()
        registry.registerHistoryStore("slow") { context in
            make(MemoryHistoryStore(limits: context.limits, maxBytes: 1 << 24))
        }
        let configuration = try HeraldConfiguration.parse(
            toml().replacingOccurrences(of: "enabled = true", with: "enabled = true\nstore = \"slow\""))
        try await withGateway(configuration, registry: registry, body)
    }

    @Test(
        "a client cut off (an RST; long-poll: it stops polling) reconnects after 2 s and recovers every message once, in order",
        arguments: [TransportKind.tcp, .websocket, .longpoll])
    func cutOffAndRecover(transport: TransportKind) async throws {
        try await withGateway(Self.toml()) { gw in
            try await CutOffRecovery.run(api: gw.http, room: "recover-\(transport)", mid: 7, label: "\(transport)") { _ in
                try await connect(gw, transport)
            }
        }
    }

    @Test(
        "live pushes that arrive while a slow history read runs are merged with the replay: none twice, none lost",
        arguments: TransportKind.sockets)
    func slowReadSeam(transport: TransportKind) async throws {
        // The memory store behind a 500 ms delay before each read (a store under load): every push
        // during the delay is both held live by the recovering connection and in the page it reads.
        try await Self.withSlowStore(delay: .milliseconds(500)) { gw in
            let room = "seam-\(transport)"
            let first = try await connect(gw, transport)
            let hello = try #require(try await recoverAuth(first, mid: 5, room: "live://\(room)", recover: "true"))
            let epoch = try #require(hello.streams["room"]?.epoch)
            let total = 300
            let api = gw.http
            let published = NIOLockedValueBox(0)
            let publisher = Task {
                let clock = ContinuousClock()
                let start = clock.now
                for i in 0..<total {
                    try? await clock.sleep(until: start + .milliseconds(5 * i))
                    _ = try? await api.post("/goim/push/room?operation=1000&type=live&room=\(room)", body: "s\(i)")
                    published.withLockedValue { $0 += 1 }
                }
            }
            var seen: [String] = []
            var lastOffset: UInt64 = 0
            while seen.count < 50, let p = await first.inbox.next(timeout: .seconds(10)) {
                guard p.operation.rawValue == 1000 else { continue }
                lastOffset = UInt64(UInt32(bitPattern: p.sequence))
                seen.append(p.text)
            }
            await first.reset()
            try await Task.sleep(for: .milliseconds(300))
            let second = try await connect(gw, transport)
            #expect(published.withLockedValue { $0 } < total - 100, "pushes still flow while the slow read runs (the seam is exercised)")
            let back = try #require(
                try await recoverAuth(
                    second, mid: 5, room: "live://\(room)", recover: #"{"room":{"offset":\#(lastOffset),"epoch":"\#(epoch)"}}"#))
            #expect(back.recovered)
            await publisher.value
            let rest = await receiveTexts(second, count: total - seen.count, timeout: .seconds(30))
            let tally = StreamTally(received: seen + rest, expected: (0..<total).map { "s\($0)" })
            #expect(tally.missing == 0 && tally.duplicates == 0 && tally.inOrder, "\(tally)")
            #expect(gw.server.comet.metrics.snapshot().closes["recovery_overflow"] == nil)
            await second.close()
        }
    }

    @Test(
        "a recovering connection: the replay of its user stream honours accepts, and a heartbeat it sends meanwhile is answered after op 8 and the replay"
    )
    func replayOrderAndFilter() async throws {
        try await Self.withSlowStore(delay: .milliseconds(300)) { gw in
            for (op, body) in [(1000, "a"), (1001, "not accepted"), (1000, "b")] {
                #expect(try await gw.http.post("/goim/push/mids?operation=\(op)&mids=31", body: body).code == 0)
            }
            let c = try await gw.tcp()
            let body = #"{"mid":31,"accepts":[1000],"recover":{"user":{"offset":0}}}"#
            try await c.send(Packet(version: 1, operation: .auth, sequence: 1, body: ByteBuffer(string: body)))
            try await c.send(Packet(version: 1, operation: .heartbeat, sequence: 2))
            var packets: [Packet] = []
            while packets.count < 4, let p = await c.inbox.next(timeout: .seconds(10)) { packets.append(p) }
            #expect(packets.map(\.operation.rawValue) == [8, 1000, 1000, 3], "op 8, the replay, then the heartbeat's reply")
            #expect(packets.filter { $0.operation.rawValue == 1000 }.map(\.text) == ["a", "b"], "op 1001 is not accepted: not replayed")
            #expect(packets.filter { $0.operation.rawValue == 1000 }.map(\.sequence) == [1, 3], "offsets 1 and 3")
            await c.close()
        }
    }

    @Test("a client that missed more than recover_limit is told recovered: false and nothing is replayed")
    func overRecoverLimit() async throws {
        try await withGateway(Self.toml("recover_limit = 5")) { gw in
            for i in 0..<10 {
                #expect(try await gw.http.post("/goim/push/mids?operation=1000&mids=33", body: "u\(i)").code == 0)
            }
            let c = try await gw.tcp()
            let back = try #require(try await recoverAuth(c, mid: 33, room: "", recover: #"{"user":{"offset":0}}"#))
            #expect(!back.recovered)
            #expect(back.streams["user"]?.offset == 10, "the newest offset, to continue from")
            #expect(try await gw.http.post("/goim/push/mids?operation=1000&mids=33", body: "live").code == 0)
            #expect(await receiveTexts(c, count: 1) == ["live"], "nothing replayed; the next live push comes first")
            await c.close()
        }
    }

    @Test(
        "a recovering connection that receives more live pushes than it may hold while its history is read is closed with recovery_overflow"
    )
    func recoveryOverflow() async throws {
        // The history read waits until the test opens the gate: what arrives meanwhile is held.
        let gate = NIOLockedValueBox(false)
        try await Self.withSlowStore({ SlowReads($0, gate: gate) }) { gw in
            let c = try await gw.tcp()
            let body = #"{"mid":34,"room_id":"live://flood","accepts":[1000],"recover":{"room":{"offset":0}}}"#
            try await c.send(Packet(version: 1, operation: .auth, sequence: 1, body: ByteBuffer(string: body)))
            // The connection registers at once and holds what arrives until its read ends: 100
            // pushes of 4,000 bytes exceed its 256 KiB bound.
            #expect(try await eventually { try await gw.http.get("/goim/online/total").data?.contains(#""conn_count":1"#) == true })
            let big = String(repeating: "z", count: 4000)
            for _ in 0..<100 where gw.closes["recovery_overflow"] == nil {
                _ = try await gw.http.post("/goim/push/room?operation=1000&type=live&room=flood", body: big)
            }
            #expect(await eventually(timeout: .seconds(10)) { gw.closes["recovery_overflow"] == 1 })
            #expect(await c.inbox.waitForClose(), "the client is closed (it reconnects and recovers again)")
            // The read ends while the gateway still runs (its end goes to an event loop).
            gate.withLockedValue { $0 = true }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    @Test("a recovering client that stops reading is closed (it recovers), even with slow_consumer = drop")
    func slowRecoveringClientIsClosed() async throws {
        let toml = gatewayTOML(
            comet: "outbound_buffer_bytes = 65536\nslow_consumer = \"drop\"", extra: "[history]\nenabled = true", sendBuffer: 4096)
        try await withGateway(toml) { gw in
            let slow = try await GoimTCPClient.connect(host: "127.0.0.1", port: gw.tcpPort, receiveBuffer: 4096)
            _ = try #require(try await recoverAuth(slow, mid: 35, room: "live://slow", recover: "true"))
            try await slow.pauseReading()
            let body = String(repeating: "y", count: 4000)
            for _ in 0..<400 where gw.closes["slow_consumer"] == nil {
                _ = try await gw.http.post("/goim/push/room?operation=1000&type=live&room=slow", body: body)
            }
            #expect(await eventually { gw.closes["slow_consumer"] == 1 })
            try await slow.resumeReading()
            #expect(await slow.inbox.waitForClose())
        }
    }

    @Test("pushes from 8 concurrent publishers reach an opted-in client in offset order, one offset after another")
    func concurrentPublishersKeepOffsetOrder() async throws {
        try await withGateway(Self.toml()) { gw in
            let c = try await gw.tcp()
            _ = try #require(try await recoverAuth(c, mid: 6, room: "live://order", recover: "true"))
            let api = gw.http
            try await withThrowingTaskGroup(of: Void.self) { group in
                for publisher in 0..<8 {
                    group.addTask {
                        for i in 0..<50 {
                            let reply = try await api.post(
                                "/goim/push/room?operation=1000&type=live&room=order", body: "p\(publisher)-\(i)")
                            #expect(reply.code == 0)
                        }
                    }
                }
                try await group.waitForAll()
            }
            var offsets: [UInt32] = []
            while offsets.count < 400, let p = await c.inbox.next(timeout: .seconds(10)) { offsets.append(UInt32(bitPattern: p.sequence)) }
            #expect(
                offsets == Array(1...400),
                "offsets arrive as 1, 2, 3, …: \(offsets.count) received, first out of place at \(offsets.indices.first { offsets[$0] != UInt32($0 + 1) } ?? -1)"
            )
            await c.close()
        }
    }

    @Test("after a restart (a new memory store) the client is told recovered: false")
    func restartMeansNotRecovered() async throws {
        var position: (offset: UInt64, epoch: String) = (0, "")
        try await withGateway(Self.toml()) { gw in
            let c = try await gw.tcp()
            let hello = try #require(try await recoverAuth(c, mid: 8, room: "live://restart", recover: "true"))
            for i in 0..<5 {
                #expect(try await gw.http.post("/goim/push/room?operation=1000&type=live&room=restart", body: "r\(i)").code == 0)
            }
            let got = await receiveTexts(c, count: 5)
            #expect(got == (0..<5).map { "r\($0)" })
            position = (5, try #require(hello.streams["room"]?.epoch))
            await c.close()
        }
        try await withGateway(Self.toml()) { gw in
            #expect(try await gw.http.post("/goim/push/room?operation=1000&type=live&room=restart", body: "after").code == 0)
            let c = try await gw.tcp()
            let back = try #require(
                try await recoverAuth(
                    c, mid: 8, room: "live://restart", recover: #"{"room":{"offset":\#(position.offset),"epoch":"\#(position.epoch)"}}"#))
            #expect(!back.recovered, "a new epoch cannot continue the old one")
            #expect(back.streams["room"]?.epoch != position.epoch)
            // Not recovered means nothing is replayed ("after" is not): the first push the client
            // gets is the next live one. The app falls back to its own API for the rest.
            #expect(try await gw.http.post("/goim/push/room?operation=1000&type=live&room=restart", body: "live").code == 0)
            #expect(await receiveTexts(c, count: 1) == ["live"])
            await c.close()
        }
    }

    @Test("a user offline for 20 pushes reads them through the API and gets them by recovery at login")
    func offlineUserGetsUnread() async throws {
        try await withGateway(Self.toml()) { gw in
            for i in 0..<20 {
                let reply = try await gw.http.post("/goim/push/mids?operation=1000&mids=42", body: "u\(i)")
                #expect(reply.code == 0)
                #expect(reply.data == #"{"offline_mids":[42]}"#, "the user is offline")
            }
            let page = try await gw.http.get("/goim/history?mid=42&since=0")
            #expect(page.code == 0)
            let data = try #require(page.data.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
            let messages = try #require(data["messages"] as? [[String: Any]])
            let bodies = messages.compactMap {
                ($0["body"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
            }
            #expect(bodies == (0..<20).map { "u\($0)" })
            #expect(data["unread"] as? Int == 20)
            #expect(data["complete"] as? Bool == true)
            let epoch = try #require(data["epoch"] as? String)

            let c = try await gw.ws()
            let hello = try #require(try await recoverAuth(c, mid: 42, room: "", recover: #"{"user":{"offset":0,"epoch":"\#(epoch)"}}"#))
            #expect(hello.recovered)
            #expect(hello.streams["user"]?.offset == 20)
            let got = await receiveTexts(c, count: 20)
            #expect(got == (0..<20).map { "u\($0)" }, "the 20 unread messages, once each, in order")
            // Live after the replay, with the next offset.
            #expect(try await gw.http.post("/goim/push/mids?operation=1000&mids=42", body: "live").code == 0)
            let live = try #require(await c.inbox.next(timeout: .seconds(10)))
            #expect(live.text == "live")
            #expect(live.version == HistoryStream.Kind.user.rawValue)
            #expect(live.sequence == 21)
            await c.close()
        }
    }

    @Test("goim's clients, which do not opt in, get goim's bytes with history on (ver 1, seq 0)", arguments: TransportKind.sockets)
    func goimClientsUnchanged(transport: TransportKind) async throws {
        try await withGateway(Self.toml()) { gw in
            let c = try await gw.client(transport, AuthToken(mid: 9, roomID: "live://plain", accepts: [1000]))
            #expect(try await gw.http.post("/goim/push/room?operation=1000&type=live&room=plain", body: "plain").code == 0)
            #expect(try await gw.http.post("/goim/push/mids?operation=1000&mids=9", body: "user").code == 0)
            var packets: [Packet] = []
            while packets.count < 2, let p = await c.inbox.next(timeout: .seconds(10)) { packets.append(p) }
            #expect(packets.map(\.text) == ["plain", "user"])
            #expect(packets.allSatisfy { $0.version == 1 && $0.sequence == 0 }, "the header is goim's")
            // Both were stored all the same.
            for query in ["type=live&room=plain", "mid=9"] {
                let page = try await gw.http.get("/goim/history?\(query)")
                let data = try #require(page.data.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
                #expect(data["top"] as? Int == 1, "\(query): \(data)")
            }
            await c.close()
        }
    }

    @Test("the history API refuses bad parameters, naming them")
    func historyAPIParameters() async throws {
        try await withGateway(Self.toml()) { gw in
            for (query, parameter) in [
                ("", "mid"), ("mid=x", "mid"), ("mid=1&since=-1", "since"), ("mid=1&limit=0", "limit"), ("room=1", "type"),
            ] {
                let reply = try await gw.http.get("/goim/history?\(query)")
                #expect(reply.code == -400, "\(query)")
                #expect(reply.message.hasPrefix("\(parameter):"), "\(query): \(reply.message)")
            }
        }
        try await withGateway(gatewayTOML()) { gw in
            let reply = try await gw.http.get("/goim/history?mid=1")
            #expect(reply.code == -400)
            #expect(reply.message.contains("history is off"))
        }
    }
}

/// A history store whose reads wait `delay` first (a store under load).
final class SlowReads: HistoryStore {
    let inner: any HistoryStore
    /// What each read waits for first.
    let wait: @Sendable () async throws -> Void
    var name: String { "slow" }

    init(_ inner: any HistoryStore, delay: Duration) {
        self.inner = inner
        self.wait = { try await Task.sleep(for: delay) }
    }

    /// Reads wait until `gate` is opened (set to true).
    init(_ inner: any HistoryStore, gate: NIOLockedValueBox<Bool>) {
        self.inner = inner
        self.wait = {
            while !gate.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        }
    }

    func append(to stream: String, operation: Int32, body: [UInt8]) async throws -> StreamPosition {
        try await inner.append(to: stream, operation: operation, body: body)
    }

    func read(_ stream: String, after offset: UInt64, limit: Int) async throws -> HistoryPage {
        try await wait()
        return try await inner.read(stream, after: offset, limit: limit)
    }

    func shutdown() async {}
}

/// How a received sequence of texts compares with the one expected.
struct StreamTally: CustomStringConvertible {
    var missing: Int
    var duplicates: Int
    var inOrder: Bool
    var count: Int

    init(received: [String], expected: [String]) {
        count = received.count
        missing = Set(expected).subtracting(received).count
        duplicates = received.count - Set(received).count
        inOrder = received == expected
    }

    var description: String { "\(count) received, \(missing) missing, \(duplicates) duplicated, \(inOrder ? "in order" : "out of order")" }
}

/// What the auth reply of a client that opted into recovery says.
struct RecoveryReply {
    struct Position { var offset: UInt64; var epoch: String }
    var recovered: Bool
    var streams: [String: Position]
}

private func connect(_ gw: Gateway, _ transport: TransportKind) async throws -> any GoimClient {
    switch transport {
    case .tcp: try await gw.tcp()
    case .websocket: try await gw.ws()
    case .longpoll: gw.longPoll()
    case .sse: GoimSSEClient(host: "127.0.0.1", port: gw.ssePort)
    }
}

/// Sends op 7 with goim's fields and `"recover": <recover>` and reads the reply's outcome; nil
/// when the server did not answer op 8.
func recoverAuth(_ c: any GoimClient, mid: Int64, room: String, recover: String) async throws -> RecoveryReply? {
    let body = #"{"mid":\#(mid),"room_id":"\#(room)","accepts":[1000],"recover":\#(recover)}"#
    try await c.send(Packet(version: 1, operation: .auth, sequence: 1, body: ByteBuffer(string: body)))
    guard let reply = await c.inbox.next(timeout: .seconds(10)), reply.operation == .authReply,
        let object = try JSONSerialization.jsonObject(with: Data(reply.body.readableBytesView)) as? [String: Any]
    else { return nil }
    var streams: [String: RecoveryReply.Position] = [:]
    for (name, value) in object["streams"] as? [String: [String: Any]] ?? [:] {
        streams[name] = RecoveryReply.Position(
            offset: (value["offset"] as? NSNumber)?.uint64Value ?? 0, epoch: value["epoch"] as? String ?? "")
    }
    return RecoveryReply(recovered: object["recovered"] as? Bool ?? false, streams: streams)
}
