import Foundation
public import HeraldCore
import HeraldProtocol
import NIOConcurrencyHelpers

/// The queue-backend conformance suite: every queue plugin must pass it. Each case gets a fresh
/// backend from `make` (its own topic or queue) and returns the problems it found (empty when the
/// backend conforms). The redelivery case runs only for backends whose guarantees declare it.
public enum QueueConformance {
    public typealias Make = @Sendable () async throws -> any QueueBackend
    public typealias Case = @Sendable (Make) async throws -> [String]

    public static let cases: [(name: String, run: Case)] = [
        ("publish and consume every kind", publishAndConsume),
        ("order per partitioning key", perKeyOrder),
        ("acknowledged messages are not delivered again", commit),
        (redeliveryCase, redelivery),
    ]

    static let redeliveryCase = "unacknowledged messages are delivered again"

    /// The cases that apply to a backend with these guarantees (redelivery only where declared).
    public static func caseNames(redelivers: Bool) -> [String] {
        cases.map(\.name).filter { redelivers || $0 != redeliveryCase }
    }

    /// How long a case waits for deliveries before reporting what is missing.
    public static let patience: Duration = .seconds(30)

    public static func publishAndConsume(_ make: Make) async throws -> [String] {
        let queue = try await make()
        defer { Task { await queue.shutdown() } }
        var sent: [PushMsg] = []
        for i in 0..<90 {
            var m = PushMsg()
            m.operation = 1000 + Int32(i % 3)
            m.msg = Data("message \(i)".utf8)
            switch i % 3 {
            case 0:
                m.type = .push
                m.server = "comet-\(i % 2)"
                m.keys = ["key-\(i)", "key-\(i + 1)"]
            case 1:
                m.type = .room
                m.room = "live://\(i % 5)"
            default:
                m.type = .broadcast
                m.speed = Int32(i)
            }
            sent.append(m)
        }
        try await publishConcurrently(sent, to: queue)
        let consumer = try await queue.makeConsumer()
        let got = try await receive(sent.count, from: consumer, acknowledge: true)
        // Anything after every message arrived is a message delivered twice.
        let extra = got.count == sent.count ? try await receive(1, from: consumer, acknowledge: true, within: .milliseconds(500)) : []
        await consumer.close()
        var problems: [String] = []
        let byBody = Dictionary(got.map { ($0.message.msg, $0.message) }, uniquingKeysWith: { a, _ in a })
        for m in sent {
            guard var r = byBody[m.msg] else {
                problems.append("not delivered: \(String(decoding: m.msg, as: UTF8.self))")
                continue
            }
            // A backend that keeps no log numbers what it sends (herald_stream, herald_stream_seq).
            r.heraldStream = ""
            r.heraldStreamSeq = 0
            if r != m { problems.append("delivered with different fields: sent \(m), got \(r)") }
        }
        let distinct = Set(got.map(\.message.msg)).count
        if distinct < got.count { problems.append("\(got.count - distinct) messages delivered twice among the first \(got.count)") }
        if !extra.isEmpty {
            problems.append(
                "a message was delivered again after all \(sent.count) had arrived: \(String(decoding: extra[0].message.msg, as: UTF8.self))"
            )
        }
        return problems
    }

    public static func perKeyOrder(_ make: Make) async throws -> [String] {
        let queue = try await make()
        defer { Task { await queue.shutdown() } }
        let keys = (0..<8).map { "order-\($0)" }
        let perKey = 40
        // Each key's messages are published one after another; the keys run concurrently.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in keys {
                group.addTask {
                    for i in 0..<perKey {
                        var m = PushMsg()
                        m.type = .push
                        m.keys = [key]
                        m.msg = Data("\(key) \(i)".utf8)
                        try await queue.publish(m)
                    }
                }
            }
            try await group.waitForAll()
        }
        let consumer = try await queue.makeConsumer()
        let got = try await receive(keys.count * perKey, from: consumer, acknowledge: true)
        await consumer.close()
        var next: [String: Int] = [:]
        var problems: [String] = []
        for d in got {
            let parts = String(decoding: d.message.msg, as: UTF8.self).split(separator: " ")
            guard parts.count == 2, let i = Int(parts[1]) else {
                problems.append("unexpected body")
                continue
            }
            let key = String(parts[0])
            if i != next[key, default: 0] { problems.append("\(key): got \(i), expected \(next[key, default: 0])") }
            next[key] = i + 1
        }
        for key in keys where next[key, default: 0] != perKey {
            problems.append("\(key): \(next[key, default: 0]) of \(perKey) delivered")
        }
        return problems
    }

    public static func commit(_ make: Make) async throws -> [String] {
        let queue = try await make()
        defer { Task { await queue.shutdown() } }
        let first = (0..<30).map { body("committed \($0)") }
        try await publishConcurrently(first, to: queue)
        let c1 = try await queue.makeConsumer()
        let got = try await receive(first.count, from: c1, acknowledge: true)
        await c1.close()
        guard got.count == first.count else { return ["first consumer got \(got.count) of \(first.count)"] }
        let marker = body("marker")
        try await queue.publish(marker)
        let c2 = try await queue.makeConsumer()
        let after = try await receive(1, from: c2, acknowledge: true)
        await c2.close()
        guard let d = after.first else { return ["the second consumer received nothing"] }
        return d.message.msg == marker.msg
            ? []
            : ["the second consumer received \(String(decoding: d.message.msg, as: UTF8.self)) again before the new message"]
    }

    public static func redelivery(_ make: Make) async throws -> [String] {
        let queue = try await make()
        defer { Task { await queue.shutdown() } }
        guard queue.guarantees.redelivers else { return ["\(queue.name) does not declare redelivery; this case does not apply to it"] }
        // One key, so the messages share a partition and are consumed in order.
        let sent = (0..<30).map { i -> PushMsg in
            var m = body("r \(i)")
            m.type = .room
            m.room = "redelivery"
            return m
        }
        for m in sent { try await queue.publish(m) }
        let c1 = try await queue.makeConsumer()
        let got = try await receive(sent.count, from: c1, acknowledge: false)
        guard got.count == sent.count else {
            await c1.close()
            return ["first consumer got \(got.count) of \(sent.count)"]
        }
        for d in got.prefix(10) { try await c1.acknowledge(d) }
        await c1.close()
        let c2 = try await queue.makeConsumer()
        let again = try await receive(20, from: c2, acknowledge: true)
        await c2.close()
        let expected = sent.dropFirst(10).map(\.msg)
        let bodies = again.map(\.message.msg)
        return bodies == Array(expected)
            ? []
            : [
                "after acknowledging 10 of 30, the next consumer got \(bodies.map { String(decoding: $0, as: UTF8.self) }), expected r 10…r 29"
            ]
    }

    // MARK: Helpers

    static func body(_ text: String) -> PushMsg {
        var m = PushMsg()
        m.type = .push
        m.keys = [text]
        m.msg = Data(text.utf8)
        return m
    }

    static func publishConcurrently(_ messages: [PushMsg], to queue: any QueueBackend) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for m in messages { group.addTask { try await queue.publish(m) } }
            try await group.waitForAll()
        }
    }

    /// Receives up to `count` deliveries, waiting at most ``patience``; closes the consumer on timeout.
    public static func receive(
        _ count: Int,
        from consumer: any QueueConsumer,
        acknowledge: Bool,
        within patience: Duration = patience
    ) async throws -> [QueueDelivery] {
        let box = NIOLockedValueBox<[QueueDelivery]>([])
        // The way the job consumes: in batches of what is there, never more than asked for.
        let reader = Task {
            while case let want = count - box.withLockedValue({ $0.count }), want > 0 {
                let batch = try await consumer.nextBatch(max: want)
                if batch.isEmpty { break }
                for d in batch {
                    if acknowledge { try await consumer.acknowledge(d) }
                    box.withLockedValue { $0.append(d) }
                }
            }
        }
        let deadline = ContinuousClock.now + patience
        while box.withLockedValue({ $0.count }) < count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if box.withLockedValue({ $0.count }) < count { await consumer.close() }
        _ = await reader.result
        return box.withLockedValue { $0 }
    }
}
