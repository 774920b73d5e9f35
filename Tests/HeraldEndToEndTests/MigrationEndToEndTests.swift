import Foundation
import HeraldProtocol
import HeraldTesting
import NIOConcurrencyHelpers
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The staged Kafka → ZeroMQ migration on the real executable: a steady producer, one SIGHUP per
/// phase, and every client counting what it receives.
@Suite("end to end: staged kafka → zeromq migration", .serialized)
struct MigrationEndToEndTests {
    static func config(base: Int, phase: String) -> String {
        HeraldChild.baseTOML(base, serverID: "migrating") + """
            [queue]
            plugin = "migration"
            [queue.migration]
            primary = "kafka"
            secondary = "zeromq"
            phase = "\(phase)"
            twin_timeout = "5s"
            report_interval = "1s"
            [queue.migration.kafka]
            dev_broker = true
            commit_interval = "100ms"
            session_timeout = "6s"
            [queue.migration.zeromq]
            bind = "tcp://127.0.0.1:\(base + 90)"
            """
    }

    @Test("primary-only → dual-write → dual-read → secondary-only → dual-read under steady pushes: every message exactly once")
    func stagedMigration() async throws {
        let child = try await HeraldChild { Self.config(base: $0, phase: "primary-only") }
        defer { child.stop() }
        let base = child.base
        let api = child.api

        let users = (1...10).map { Int64($0) }
        var clients: [Int64: GoimTCPClient] = [:]
        for mid in users {
            let c = try await GoimTCPClient.connect(host: "127.0.0.1", port: base + 1)
            #expect(try await c.authenticate(AuthToken(mid: mid, key: "mig-\(mid)", accepts: [1000])))
            clients[mid] = c
        }

        // A steady producer: 100 pushes/s round-robin over the users until told to stop.
        let accepted = NIOLockedValueBox<[Int64: Int]>([:])
        let stop = NIOLockedValueBox(false)
        let producer = Task {
            var n = 0
            let start = ContinuousClock.now
            while !stop.withLockedValue({ $0 }) {
                let mid = users[n % users.count]
                let seq = n / users.count
                if let reply = try? await api.post("/goim/push/mids?operation=1000&mids=\(mid)", body: "\(mid):\(seq)"), reply.code == 0 {
                    accepted.withLockedValue { $0[mid, default: 0] = max($0[mid, default: 0], seq + 1) }
                } else {
                    Issue.record("push \(mid):\(seq) was not accepted")
                }
                n += 1
                try? await Task.sleep(until: start + .milliseconds(10 * n))
            }
        }

        func metric(_ name: String) async -> Double? {
            guard let r = try? await HTTP1Client.request(host: "127.0.0.1", port: base + 11, method: .GET, path: "/metrics") else {
                return nil
            }
            for line in String(buffer: r.body).split(separator: "\n") where line.hasPrefix(name + " ") {
                return Double(line.split(separator: " ").last ?? "")
            }
            return nil
        }

        try await Task.sleep(for: .seconds(4))  // the kafka consumer group's first assignment takes ~3 s
        for (number, phase) in [(1, "dual-write"), (2, "dual-read"), (3, "secondary-only"), (2, "dual-read")] {
            try child.rewrite { Self.config(base: $0, phase: phase) }
            child.signal(SIGHUP)
            let moved = await eventually(timeout: .seconds(10)) { await metric("herald_migration_phase") == Double(number) }
            #expect(moved, "phase \(phase) applied")
            let before = accepted.withLockedValue { $0.values.reduce(0, +) }
            try await Task.sleep(for: .seconds(3))
            let during = accepted.withLockedValue { $0.values.reduce(0, +) } - before
            #expect(during > 0, "pushes were accepted during \(phase)")
        }
        stop.withLockedValue { $0 = true }
        await producer.value
        let expected = accepted.withLockedValue { $0 }

        // Collect until every client has everything, then a little longer to catch late copies.
        var received: [Int64: [String]] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        func complete() -> Bool { users.allSatisfy { Set(received[$0, default: []]).count >= expected[$0, default: 0] } }
        while !complete(), ContinuousClock.now < deadline {
            for mid in users {
                while let p = await clients[mid]!.inbox.next(timeout: .milliseconds(20)) {
                    received[mid, default: []].append(String(buffer: p.body))
                }
            }
        }
        try await Task.sleep(for: .seconds(5))  // the rolled-back kafka consumer re-reads its backlog: the comet must drop all of it
        for mid in users {
            while let p = await clients[mid]!.inbox.next(timeout: .milliseconds(20)) {
                received[mid, default: []].append(String(buffer: p.body))
            }
        }

        var missing = 0
        var duplicates = 0
        for mid in users {
            let got = received[mid, default: []]
            let want = Set((0..<expected[mid, default: 0]).map { "\(mid):\($0)" })
            missing += want.subtracting(got).count
            duplicates += got.count - Set(got).count
        }
        let total = expected.values.reduce(0, +)
        let delivered = await metric("herald_migration_delivered_total")
        let secondCopies = await metric("herald_migration_second_copies_total")
        let dropped = await metric("herald_push_duplicates_dropped_total")
        print(
            "migration: \(total) pushes accepted, missing \(missing), duplicates \(duplicates); comparator delivered \(delivered ?? -1), second copies \(secondCopies ?? -1); the comet dropped \(dropped ?? -1)"
        )
        #expect(missing == 0)
        #expect(duplicates == 0)
        #expect(delivered == Double(total), "the comparator's delivered count agrees with the clients")
        #expect((secondCopies ?? 0) > 0, "dual-read saw both copies")
        #expect((dropped ?? 0) >= (secondCopies ?? 0), "the comet dropped every second copy the job handed on")
        for c in clients.values { await c.close() }
    }
}
