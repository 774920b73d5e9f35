import HeraldProtocol
import NIOCore

/// What the transport conformance suite needs from a running gateway.
public protocol ConformanceTarget: Sendable {
    /// A new, not yet authenticated client of the transport under test.
    func makeClient() async throws -> any GoimClient
    /// The gateway's push API.
    var api: HTTPTestClient { get }
    /// How many connections were closed for `reason` so far.
    func closeCount(_ reason: String) -> Int
    /// Pushes dropped for slow consumers so far.
    func droppedCount() -> Int
}

/// The transport conformance suite: every transport must pass it. Each case returns the problems
/// it found (empty when the transport conforms), so any test framework can assert on it.
///
/// The target's gateway must use `slow_consumer = "drop"` with a small `outbound_buffer_bytes`
/// (e.g. 65536) and, for socket transports, small kernel buffers (`sndbuf = 4096`), so that a
/// client that stops reading fills its bound within a few hundred pushes.
public enum TransportConformance {
    public typealias Case = @Sendable (any ConformanceTarget, String) async throws -> [String]

    /// Every case, by name. `tag` makes keys, users and rooms unique per run.
    public static let cases: [(name: String, run: Case)] = [
        ("auth and heartbeat", authAndHeartbeat),
        ("push by key, user, room and to all", pushKinds),
        ("op filtering", opFiltering),
        ("ordering within a connection", ordering),
        ("bounded queue for a client that does not read", boundedQueue),
        ("clean close", cleanClose),
    ]

    static func connect(_ t: any ConformanceTarget, _ token: AuthToken) async throws -> (any GoimClient)? {
        let c = try await t.makeClient()
        return try await c.authenticate(token) ? c : nil
    }

    public static func authAndHeartbeat(_ t: any ConformanceTarget, _ tag: String) async throws -> [String] {
        guard let c = try await connect(t, AuthToken(mid: 1, key: "\(tag)-a", roomID: "conf://\(tag)", accepts: [1000])) else {
            return ["auth was not answered with op 8"]
        }
        defer { Task { await c.close() } }
        guard let count = try await c.heartbeat() else { return ["heartbeat was not answered with op 3"] }
        return count >= 1 ? [] : ["heartbeat reply counts \(count) in the room, expected at least 1"]
    }

    public static func pushKinds(_ t: any ConformanceTarget, _ tag: String) async throws -> [String] {
        let mid = Int64.random(in: 1_000_000...9_000_000)
        guard let c = try await connect(t, AuthToken(mid: mid, key: "\(tag)-k", roomID: "conf://\(tag)", accepts: [1000])) else {
            return ["auth failed"]
        }
        defer { Task { await c.close() } }
        var problems: [String] = []
        let pushes = [
            ("/goim/push/keys?operation=1000&keys=\(tag)-k", "by key"),
            ("/goim/push/mids?operation=1000&mids=\(mid)", "by user"),
            ("/goim/push/room?operation=1000&type=conf&room=\(tag)", "by room"),
            ("/goim/push/all?operation=1000", "to all"),
        ]
        for (path, text) in pushes {
            let r = try await t.api.post(path, body: text)
            if r.code != 0 { problems.append("push \(text) refused: \(r.message)") }
            let p = await c.inbox.next()
            if p?.operation != Operation(1000) || p.map({ String(buffer: $0.body) }) != text {
                problems.append("push \(text): got \(p.map { "op \($0.operation) \(String(buffer: $0.body))" } ?? "nothing")")
            }
        }
        return problems
    }

    public static func opFiltering(_ t: any ConformanceTarget, _ tag: String) async throws -> [String] {
        guard let c = try await connect(t, AuthToken(mid: 2, key: "\(tag)-f", roomID: "conf://\(tag)", accepts: [1000])) else {
            return ["auth failed"]
        }
        defer { Task { await c.close() } }
        var problems: [String] = []
        _ = try await t.api.post("/goim/push/keys?operation=1001&keys=\(tag)-f", body: "filtered")
        _ = try await t.api.post("/goim/push/room?operation=1001&type=conf&room=\(tag)", body: "room")
        if let p = await c.inbox.next(), String(buffer: p.body) != "room" {
            problems.append("an op the connection does not accept was delivered: \(String(buffer: p.body))")
        }
        let sub = try await c.request(.sub, "1001")
        if sub?.operation != .subReply { problems.append("op 14 was not answered with op 15") }
        _ = try await t.api.post("/goim/push/keys?operation=1001&keys=\(tag)-f", body: "subscribed")
        if await c.inbox.next().map({ String(buffer: $0.body) }) != "subscribed" { problems.append("op subscribed by op 14 not delivered") }
        return problems
    }

    public static func ordering(_ t: any ConformanceTarget, _ tag: String) async throws -> [String] {
        guard let c = try await connect(t, AuthToken(mid: 3, key: "\(tag)-o", accepts: [1000])) else { return ["auth failed"] }
        defer { Task { await c.close() } }
        for i in 0..<50 { _ = try await t.api.post("/goim/push/keys?operation=1000&keys=\(tag)-o", body: "\(i)") }
        var got: [String] = []
        while got.count < 50, let p = await c.inbox.next() { got.append(String(buffer: p.body)) }
        return got == (0..<50).map(String.init) ? [] : ["50 pushes arrived as \(got)"]
    }

    public static func boundedQueue(_ t: any ConformanceTarget, _ tag: String) async throws -> [String] {
        guard let slow = try await connect(t, AuthToken(mid: 4, key: "\(tag)-s", roomID: "conf://\(tag)")) else { return ["auth failed"] }
        defer { Task { await slow.close() } }
        try await slow.pauseReading()
        let before = t.droppedCount()
        let body = String(repeating: "q", count: 4000)
        for _ in 0..<1500 where t.droppedCount() == before {
            _ = try await t.api.post("/goim/push/room?operation=1000&type=conf&room=\(tag)", body: body)
        }
        return t.droppedCount() > before ? [] : ["1,500 pushes of 4 KB to a client that does not read dropped nothing: its queue is unbounded"]
    }

    public static func cleanClose(_ t: any ConformanceTarget, _ tag: String) async throws -> [String] {
        let before = t.closeCount("client_closed")
        guard let c = try await connect(t, AuthToken(mid: 5, key: "\(tag)-c")) else { return ["auth failed"] }
        await c.close()
        let deadline = ContinuousClock.now + .seconds(5)
        while t.closeCount("client_closed") == before, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return t.closeCount("client_closed") > before ? [] : ["a client close was not seen by the server as client_closed"]
    }
}
