import Foundation
import HeraldProtocol
import HeraldTesting
import NIOCore
import Testing

/// Connect/disconnect storms and a stalled reader against a real `herald serve` process, whose
/// resident memory and open descriptors are read from /proc. Bounded in count and time.
@Suite("end to end: churn and soak", .serialized)
struct ChurnTests {
    /// Resident memory (KiB) and open file descriptors of a process.
    static func usage(_ pid: Int32) -> (rssKiB: Int, fds: Int) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let rss =
            status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
        return (rss, fds)
    }

    /// Opens `count` authenticated connections (tcp and websocket alternately), then closes them all.
    static func storm(_ child: HeraldChild, count: Int, wsPort: Int, round: Int) async throws -> Int {
        var clients: [any GoimClient] = []
        var failed = 0
        for i in 0..<count {
            let c: any GoimClient =
                i % 2 == 0
                ? try await GoimTCPClient.connect(host: "127.0.0.1", port: child.tcpPort)
                : try await GoimWebSocketClient.connect(host: "127.0.0.1", port: wsPort)
            if try await !c.authenticate(AuthToken(mid: Int64(round * 100_000 + i + 1), roomID: "live://churn-\(i % 20)", accepts: [1000]))
            {
                failed += 1
            }
            clients.append(c)
        }
        for c in clients { await c.close() }
        return failed
    }

    @Test("connect/disconnect storms leave descriptors at and memory near the baseline; a stalled reader cannot grow memory without bound")
    func stormsAndStalledReader() async throws {
        let child = try await HeraldChild { base in
            HeraldChild.baseTOML(base) + """
                [transport.websocket]
                listen = "127.0.0.1:\(base + 2)"
                [comet]
                outbound_buffer_bytes = 65536

                """
        }
        defer { child.stop() }
        let wsPort = child.base + 2
        let perStorm = 1_000

        // Warm-up storm: pools, caches and allocator arenas reach their working size.
        #expect(try await Self.storm(child, count: perStorm, wsPort: wsPort, round: 0) == 0)
        _ = try await eventually(timeout: .seconds(10)) {
            try await child.api.get("/goim/online/total").data?.contains(#""conn_count":0"#) == true
        }
        try await Task.sleep(for: .milliseconds(500))
        let baseline = Self.usage(child.pid)

        let storms = 5
        for round in 1...storms {
            #expect(
                try await Self.storm(child, count: perStorm, wsPort: wsPort, round: round) == 0,
                "storm \(round): every connection authenticated")
        }
        let settled = await eventually(timeout: .seconds(10)) { Self.usage(child.pid).fds <= baseline.fds }
        let after = Self.usage(child.pid)
        print(
            "churn: baseline rss \(baseline.rssKiB) KiB fds \(baseline.fds); after \(storms * perStorm) more connections rss \(after.rssKiB) KiB fds \(after.fds)"
        )
        #expect(settled, "every descriptor is released: \(after.fds) open, \(baseline.fds) at the baseline")
        // A leak of even 2 KiB per connection would add ~10 MiB over these 5,000 connections.
        #expect(
            after.rssKiB - baseline.rssKiB < 8 * 1024,
            "RSS grew \(after.rssKiB - baseline.rssKiB) KiB over \(storms * perStorm) connections")

        // A client that reads nothing while 3,000 pushes of 4 KiB (12 MiB) are sent to it.
        let stalled = try await GoimTCPClient.connect(host: "127.0.0.1", port: child.tcpPort, receiveBuffer: 4096)
        #expect(try await stalled.authenticate(AuthToken(mid: 9, roomID: "live://stall", accepts: [1000])))
        try await stalled.pauseReading()
        let body = String(repeating: "x", count: 4096)
        let beforeStall = Self.usage(child.pid)
        for _ in 0..<3_000 {
            _ = try await child.api.post("/goim/push/room?operation=1000&type=live&room=stall", body: body)
        }
        try await Task.sleep(for: .milliseconds(300))
        let duringStall = Self.usage(child.pid)
        print("churn: stalled reader: rss \(beforeStall.rssKiB) KiB before, \(duringStall.rssKiB) KiB after 12 MiB pushed to it")
        #expect(duringStall.rssKiB - beforeStall.rssKiB < 8 * 1024, "a stalled reader's queue is bounded (outbound_buffer_bytes)")
        await stalled.close()
    }
}
