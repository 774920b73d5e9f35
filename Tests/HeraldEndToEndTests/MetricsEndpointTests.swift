import Foundation
import HeraldProtocol
import HeraldTesting
import NIOCore
import Testing

/// Runs the real `herald` executable (which bootstraps the Prometheus backend) and reads `/metrics`.
@Suite("end to end: the herald executable's /metrics", .serialized)
struct MetricsEndpointTests {
    @Test("/metrics exposes connections, auths, pushes by kind, deliveries, latency, room batch sizes and close reasons")
    func metrics() async throws {
        let child = try await HeraldChild { HeraldChild.baseTOML($0) }
        defer { child.stop() }
        let api = child.api
        let base = child.base

        let good = try await GoimTCPClient.connect(host: "127.0.0.1", port: base + 1)
        #expect(try await good.authenticate(AuthToken(mid: 1, key: "m", accepts: [1000])))
        _ = try await api.post("/goim/push/keys?operation=1000&keys=m", body: "x")
        #expect(await good.inbox.next() != nil)
        _ = try await api.post("/goim/push/room?operation=1000&type=live&room=m", body: "y")
        let bad = try await GoimTCPClient.connect(host: "127.0.0.1", port: base + 1)
        var bytes = ByteBuffer()
        bytes.writeMultipleIntegers(Int32(20), Int16(20), Int16(1), Int32(2), Int32(0))
        try await bad.sendRaw(bytes)
        #expect(await bad.inbox.waitForClose())

        var text = ""
        let seen = await eventually {
            let r = try? await HTTP1Client.request(host: "127.0.0.1", port: base + 11, method: .GET, path: "/metrics")
            text = r.map { String(buffer: $0.body) } ?? ""
            return text.contains(#"herald_connections_closed_total{reason="bad_header_length"} 1"#)
        }
        #expect(seen, "close reason counted in /metrics")
        #expect(text.contains(#"herald_auth_total{result="ok"} 1"#))
        #expect(text.contains("herald_push_delivered_total 1"))
        #expect(text.contains("herald_connections 1"))
        #expect(text.contains(#"herald_pushes_total{kind="push"} 1"#))
        #expect(text.contains(#"herald_pushes_total{kind="room"} 1"#))
        #expect(text.contains(#"herald_publish_to_deliver_seconds_bucket{le="5.0"} 2"#), "publish-to-deliver latency of both messages")
        #expect(text.contains(#"herald_room_batch_bytes_count 1"#), "room batch sizes")
        await good.close()
    }

    @Test(
        "max_delay: while nothing delivers (the job is stopped), pushes are accepted until the oldest has waited max_delay, then refused at once with HTTP 503, -503 and Retry-After, and counted"
    )
    func queueBehind() async throws {
        let child = try await HeraldChild { HeraldChild.baseTOML($0) + "\n[job]\nenabled = false\n[queue.memory]\nmax_delay = \"300ms\"\n" }
        defer { child.stop() }
        let api = child.api
        let first = try await api.post("/goim/push/all?operation=1000", body: "first")
        #expect(first.status == 200 && first.code == 0, "nothing outstanding yet: accepted")
        try await Task.sleep(for: .milliseconds(500))
        for attempt in 0..<3 {
            let refused = try await api.post("/goim/push/all?operation=1000", body: "late \(attempt)")
            #expect(refused.status == 503 && refused.code == -503, "\(refused)")
            #expect(refused.header("Retry-After") == "1")
            #expect(refused.message.contains("max_delay"), "\(refused.message)")
        }
        let metrics = try await HTTP1Client.request(host: "127.0.0.1", port: child.base + 11, method: .GET, path: "/metrics")
        let text = String(buffer: metrics.body)
        #expect(text.contains("herald_api_queue_full_total 3"), "each refusal counted")
        #expect(text.contains(#"herald_pushes_total{kind="broadcast"} 1"#), "only the accepted push counts as published")
    }

    @Test(
        "herald comet and herald job serve /metrics on [metrics] listen: the comet's connections and deliveries, the job's consumption and its view of the registry; with a token, a scrape without it is refused"
    )
    func splitRolesServeMetrics() async throws {
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        let layout = ClusterTests.Layout(redis: redis.addresses)
        let b = layout.base
        let (cometMetrics, jobMetrics) = (b + 8, b + 58)
        let logic = try await HeraldChild(role: "logic", base: b + 30, config: { layout.logic(at: $0) })
        defer { logic.stop() }
        let job = try await HeraldChild(
            role: "job", base: b + 50,
            config: { _ in
                layout.job + "\n[metrics]\nlisten = \"127.0.0.1:\(jobMetrics)\"\ntoken = \"scrape-me\"\n"
            }, ready: { _ in true })
        defer { job.stop() }
        let comet = try await HeraldChild(
            role: "comet", base: b,
            config: {
                layout.comet("comet-a", at: $0) + "\n[metrics]\nlisten = \"127.0.0.1:\(cometMetrics)\"\n"
            }, ready: { _ in await ClusterTests.registered(logic).contains("comet-a") })
        defer { comet.stop() }

        let client = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
        #expect(try await client.authenticate(AuthToken(mid: 1, key: "scraped", roomID: "live://scraped", accepts: [1000])))
        var delivered = false
        for i in 0..<40 where !delivered {
            _ = try await logic.api.post("/goim/push/room?operation=1000&type=live&room=scraped", body: "m\(i)")
            delivered = await client.inbox.next(timeout: .milliseconds(250)) != nil
        }
        #expect(delivered)

        func scrape(_ port: Int, token: String? = nil) async throws -> (status: Int, text: String) {
            let reply = try await HTTP1Client.request(
                host: "127.0.0.1", port: port, method: .GET, path: "/metrics",
                headers: token.map { [("Authorization", "Bearer \($0)")] } ?? []
            )
            return (reply.status, String(buffer: reply.body))
        }
        let cometText = try await scrape(cometMetrics).text
        #expect(cometText.contains("herald_connections 1"), "\(cometText.prefix(400))")
        #expect(cometText.contains("# TYPE herald_push_delivered_total counter"))
        let refused = try await scrape(jobMetrics)
        #expect(refused.status == 401, "no token: \(refused.status)")
        var jobText = ""
        let sawComet = await eventually(timeout: .seconds(10)) {
            jobText = (try? await scrape(jobMetrics, token: "scrape-me").text) ?? ""
            return jobText.contains("herald_registry_comets 1")
        }
        #expect(sawComet, "\(jobText.prefix(400))")
        #expect(jobText.contains("# TYPE herald_queue_consumed_total counter"))
        await client.close()
    }

    @Test("[metrics] listen on an address other machines reach, without a token, is refused naming metrics.token")
    func wideMetricsListenNeedsToken() async throws {
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        let layout = ClusterTests.Layout(redis: redis.addresses)
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("herald-wide-metrics-\(layout.base).toml")
        try (layout.job + "\n[metrics]\nlisten = \"0.0.0.0:\(layout.base + 58)\"\n").write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }
        let process = Process()
        process.executableURL = HeraldChild.root.appendingPathComponent(".build/debug/herald")
        process.arguments = ["job", "--config", config.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // A job that wrongly starts would run until stopped: give it 30 s.
        let killer = Task {
            try await Task.sleep(for: .seconds(30))
            if process.isRunning { process.terminate() }
        }
        let printed = await withCheckedContinuation { (c: CheckedContinuation<String, Never>) in
            DispatchQueue.global().async {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                c.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
        killer.cancel()
        #expect(process.terminationStatus != 0)
        #expect(printed.contains("metrics.token"), "\(printed.suffix(600))")
    }
}
