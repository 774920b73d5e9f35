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
    /// Authenticated connections the server holds now.
    func connectionCount() -> Int
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
        if try await c.authenticate(token) { return c }
        await c.close()
        return nil
    }

    /// Runs `body` with an authenticated client and closes the client before returning, so no case
    /// leaves a close behind that a later case could count.
    static func withClient(
        _ t: any ConformanceTarget, _ token: AuthToken, _ body: (any GoimClient) async throws -> [String]
    ) async throws -> [String] {
        guard let c = try await connect(t, token) else { return ["auth was not answered with op 8"] }
        do {
            let problems = try await body(c)
            await c.close()
            return problems
        } catch {
            await c.close()
            throw error
        }
    }

    public static func authAndHeartbeat(_ t: any ConformanceTarget, _ tag: String) async throws -> [String] {
        try await withClient(t, AuthToken(mid: 1, key: "\(tag)-a", roomID: "conf://\(tag)", accepts: [1000])) { c in
            guard let count = try await c.heartbeat() else { return ["heartbeat was not answered with op 3"] }
            return count >= 1 ? [] : ["heartbeat reply counts \(count) in the room, expected at least 1"]
        }
    }

    public static func pushKinds(_ t: any ConformanceTarget, _ tag: String) async throws -> [String] {
        let mid = Int64.random(in: 1_000_000...9_000_000)
        return try await withClient(t, AuthToken(mid: mid, key: "\(tag)-k", roomID: "conf://\(tag)", accepts: [1000])) { c in
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
    }

    public static func opFiltering(_ t: any ConformanceTarget, _ tag: String) async throws -> [String] {
        try await withClient(t, AuthToken(mid: 2, key: "\(tag)-f", roomID: "conf://\(tag)", accepts: [1000])) { c in
            var problems: [String] = []
            _ = try await t.api.post("/goim/push/keys?operation=1001&keys=\(tag)-f", body: "filtered")
            _ = try await t.api.post("/goim/push/room?operation=1001&type=conf&room=\(tag)", body: "room")
            // Rooms are not filtered by op: the room push arrives, and the key push before it must not.
            let first = await c.inbox.next().map { String(buffer: $0.body) }
            if first != "room" {
                problems.append(
                    first == nil
                        ? "the room push (rooms are not filtered by op) did not arrive" : "expected the room push first, got \(first!)")
            }
            let sub = try await c.request(.sub, "1001")
            if sub?.operation != .subReply { problems.append("op 14 was not answered with op 15") }
            _ = try await t.api.post("/goim/push/keys?operation=1001&keys=\(tag)-f", body: "subscribed")
            let next = await c.inbox.next().map { String(buffer: $0.body) }
            if next != "subscribed" { problems.append("op subscribed by op 14 not delivered (got \(next ?? "nothing"))") }
            return problems
        }
    }

    public static func ordering(_ t: any ConformanceTarget, _ tag: String) async throws -> [String] {
        try await withClient(t, AuthToken(mid: 3, key: "\(tag)-o", accepts: [1000])) { c in
            for i in 0..<50 { _ = try await t.api.post("/goim/push/keys?operation=1000&keys=\(tag)-o", body: "\(i)") }
            var got: [String] = []
            while got.count < 50, let p = await c.inbox.next() { got.append(String(buffer: p.body)) }
            return got == (0..<50).map(String.init) ? [] : ["50 pushes arrived as \(got)"]
        }
    }

    public static func boundedQueue(_ t: any ConformanceTarget, _ tag: String) async throws -> [String] {
        try await withClient(t, AuthToken(mid: 4, key: "\(tag)-s", roomID: "conf://\(tag)")) { slow in
            try await slow.pauseReading()
            let before = t.droppedCount()
            let body = String(repeating: "q", count: 4000)
            for _ in 0..<1500 where t.droppedCount() == before {
                _ = try await t.api.post("/goim/push/room?operation=1000&type=conf&room=\(tag)", body: body)
            }
            return t.droppedCount() > before
                ? [] : ["1,500 pushes of 4 KB to a client that does not read dropped nothing: its queue is unbounded"]
        }
    }

    public static func cleanClose(_ t: any ConformanceTarget, _ tag: String) async throws -> [String] {
        // The earlier cases closed their clients; the close is counted once the server has seen
        // every one of them, so only this client's close can move the count.
        guard await settled(t, connections: 0) else { return ["earlier clients were still open on the server after 10 s"] }
        let before = t.closeCount("client_closed")
        guard let c = try await connect(t, AuthToken(mid: 5, key: "\(tag)-c")) else { return ["auth failed"] }
        guard t.connectionCount() == 1 else { return ["the server holds \(t.connectionCount()) connections, expected this one"] }
        await c.close()
        guard await settled(t, connections: 0) else { return ["a client close did not end its connection on the server within 10 s"] }
        let deadline = ContinuousClock.now + .seconds(5)
        while t.closeCount("client_closed") == before, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(50))  // a second count, if there were one, would land by now
        let after = t.closeCount("client_closed")
        return after == before + 1 ? [] : ["a client close moved client_closed from \(before) to \(after), expected exactly one more"]
    }

    static func settled(_ t: any ConformanceTarget, connections: Int) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while t.connectionCount() != connections, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return t.connectionCount() == connections
    }
}
