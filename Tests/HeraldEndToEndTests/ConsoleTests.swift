import Foundation
import HeraldCore
import HeraldProtocol
import HeraldTesting
import Testing

/// The operator's console (`/admin`) in headless Chromium against the real executable: what the
/// page shows is compared with what the API and `/metrics` say. Requires the Debian `chromium`
/// package (scripts/install-deps.sh test installs it).
@Suite("console: /admin in a browser", .serialized)
struct ConsoleTests {
    static let token = "console-secret-0123456789"

    static func config(_ base: Int, phase: String = "dual-write") -> String {
        MigrationEndToEndTests.config(base: base, phase: phase)
            .replacingOccurrences(of: "[logic]\n", with: "[logic]\nadmin_token = \"\(token)\"\n")
            + "\n[comet]\nonline_report_interval = \"500ms\"\n"
    }

    /// The value of one series (`name` or `name{labels}`) in a Prometheus exposition.
    static func sample(_ series: String, in text: String) -> Int? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }.map { Int($0) }
    }

    /// The text of the element with `data-figure="name"` in a dumped DOM.
    /// A sample's value as a Double (histogram sums are fractions).
    static func value(_ series: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    /// (topic, partition, lag) of every `herald_queue_partition_lag` series.
    static func partitionLags(in text: String) -> [(String, String, Int)] {
        text.split(separator: "\n").compactMap { line -> (String, String, Int)? in
            guard line.hasPrefix("herald_queue_partition_lag{"), let close = line.firstIndex(of: "}") else { return nil }
            var labels: [String: String] = [:]
            for pair in line[line.index(after: line.firstIndex(of: "{")!)..<close].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { labels[String(kv[0])] = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            }
            guard let topic = labels["topic"], let partition = labels["partition"],
                let lag = Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces))
            else { return nil }
            return (topic, partition, Int(lag))
        }
    }

    static func figure(_ name: String, in dom: String) -> String? {
        guard let start = dom.range(of: "data-figure=\"\(name)\">") else { return nil }
        let rest = dom[start.upperBound...]
        return rest.range(of: "<").map { String(rest[..<$0.lowerBound]) }
    }

    @Test(
        "on herald serve in the migration's dual-write with clients and pushes, the console shows the connections, the comet, the deliveries, the close reasons, the rooms and the migration's phase and verdict as the API and /metrics give them, and follows the walk to dual-read and secondary-only; its data needs the admin token"
    )
    func consoleShowsWhatTheAPISays() async throws {
        let chromium = try #require(BrowserDemoTests.chromium, "chromium is not installed (scripts/install-deps.sh test installs it)")
        let child = try await HeraldChild { Self.config($0) }
        defer { child.stop() }
        let base = child.base

        var members: [GoimTCPClient] = []
        for mid in 1...3 {
            let c = try await GoimTCPClient.connect(host: "127.0.0.1", port: base + 1)
            #expect(try await c.authenticate(AuthToken(mid: Int64(mid), key: "console-\(mid)", roomID: "live://console", accepts: [1000])))
            members.append(c)
        }
        let leaver = try await GoimTCPClient.connect(host: "127.0.0.1", port: base + 1)
        #expect(try await leaver.authenticate(AuthToken(mid: 9, key: "console-leaver", accepts: [1000])))
        await leaver.close()
        for i in 0..<5 {
            #expect(try await child.api.post("/goim/push/room?operation=1000&type=live&room=console", body: "m\(i)").code == 0)
        }
        for member in members {
            var got = 0
            while got < 5, let packet = await member.inbox.next(timeout: .seconds(10)) {
                if packet.operation.rawValue == 1000 { got += 1 }
            }
            #expect(got == 5)
        }
        // Room counts reach logic with the comet's next report (every 500 ms here).
        let roomsReported = await eventually(timeout: .seconds(15)) {
            (try? await child.api.get("/goim/online/top?type=live&limit=20"))?.data?.contains(#""count":3"#) == true
        }
        #expect(roomsReported)

        // The page holds no data; the data needs the token.
        let page = try await HTTP1Client.request(host: "127.0.0.1", port: base + 11, method: .GET, path: "/admin")
        #expect(page.status == 200)
        let anonymous = try await HTTP1Client.request(host: "127.0.0.1", port: base + 11, method: .GET, path: "/admin/snapshot")
        #expect(anonymous.status == 401)
        let wrong = try await HTTP1Client.request(
            host: "127.0.0.1", port: base + 11, method: .GET, path: "/admin/snapshot", headers: [("Authorization", "Bearer not-it")])
        #expect(wrong.status == 401)

        // A bad user id is refused naming the parameter.
        let badMids = try await HTTP1Client.request(
            host: "127.0.0.1", port: base + 11, method: .GET, path: "/admin/snapshot?mids=x",
            headers: [("Authorization", "Bearer \(Self.token)")])
        #expect(badMids.status == 400)
        #expect(String(buffer: badMids.body).contains(#""code":-400"#) && String(buffer: badMids.body).contains("mids"))

        // Kafka's lag per partition settles once the job consumed every push (the gauges are
        // updated every second): the page and /metrics are then read at rest.
        let settled = await eventually(timeout: .seconds(15)) {
            let text =
                (try? await HTTP1Client.request(host: "127.0.0.1", port: base + 11, method: .GET, path: "/metrics")).map {
                    String(buffer: $0.body)
                } ?? ""
            let lags = Self.partitionLags(in: text)
            return !lags.isEmpty && lags.allSatisfy { $0.2 == 0 }
        }
        #expect(settled, "every partition's lag reaches 0")
        // The page asked for one room's count and two users' presence (user 9 left).
        let dom = try await BrowserDemoTests.dumpDOM(
            chromium: chromium, url: "http://127.0.0.1:\(base + 11)/admin#token=\(Self.token)&room=live%3A%2F%2Fconsole&mids=1,9",
            virtualTime: 5000)
        let users = try await child.api.get("/goim/online/users?mids=1,9")
        #expect(users.data?.contains(#""1":{"connections":1,"online":true"#) == true, "\(users.data ?? "")")
        #expect(users.data?.contains(#""9":{"connections":0,"online":false"#) == true, "\(users.data ?? "")")
        #expect(dom.contains("<td>1</td><td>yes</td><td>1</td>"), "user 1's presence as /goim/online/users has it")
        #expect(dom.contains("<td>9</td><td>no</td><td>0</td>"), "user 9's")
        #expect(Self.figure("room_detail", in: dom) == "live://console: 3 online")
        #expect(dom.contains("<td>\(HeraldVersion.current)</td>"), "the comet's version")
        #expect(dom.contains(" s ago</td>"), "how long ago the comet's entry was renewed")
        let metrics = try await HTTP1Client.request(host: "127.0.0.1", port: base + 11, method: .GET, path: "/metrics")
        let samples = String(buffer: metrics.body)
        func sample(_ series: String) -> Int? { Self.sample(series, in: samples) }

        let total = try await child.api.get("/goim/online/total")
        #expect(total.data?.contains(#""conn_count":3"#) == true, "\(total.data ?? "")")
        #expect(Self.figure("connections", in: dom) == "3", "connections shown: \(Self.figure("connections", in: dom) ?? "none")")
        #expect(Self.figure("comets", in: dom) == "1")
        #expect(dom.contains("<td>migrating</td>"), "the comet's row")
        let delivered = try #require(sample("herald_push_delivered_total"))
        #expect(delivered == 15)
        #expect(Self.figure("delivered_total", in: dom) == "\(delivered)")
        #expect(dom.contains("<td>client_closed</td>"), "the leaver's close reason")
        #expect(dom.contains("<td>live://console</td><td>3</td>"), "the room and its online count, as /goim/online/top has them")
        // Kafka's lag per partition, as /metrics has it.
        let partitions = Self.partitionLags(in: samples)
        #expect(!partitions.isEmpty, "the kafka consumer reports its partitions")
        for (topic, partition, lag) in partitions {
            #expect(
                dom.contains("<td>\(topic)</td><td>\(partition)</td><td>\(lag)</td>"),
                "partition \(partition)'s lag \(lag); shown: \(dom.components(separatedBy: "id=\"partition-rows\">").dropFirst().first?.prefix(400) ?? "")"
            )
        }
        #expect(Self.figure("phase", in: dom) == "dual-write")
        #expect(Self.figure("missing", in: dom) == "0")
        let verdict = Self.figure("verdict", in: dom) ?? ""
        #expect(
            verdict.hasPrefix("not yet safe to go to dual-read"), "a process that just started has not watched for 10 minutes: \(verdict)")
        let seen = try #require(sample(#"herald_migration_seen_total{backend="primary"}"#))
        #expect(seen >= 5)
        #expect(Self.figure("seen_primary", in: dom) == "\(seen)")

        // The migration walked on by SIGHUP: after each step the console shows the new phase,
        // what the comparator saw on each backend as /metrics has it, and the next step's check.
        for (number, phase, next) in [(2, "dual-read", "secondary-only"), (3, "secondary-only", nil as String?)] {
            try child.rewrite { Self.config($0, phase: phase) }
            child.signal(SIGHUP)
            let moved = await eventually(timeout: .seconds(15)) {
                let text =
                    (try? await HTTP1Client.request(host: "127.0.0.1", port: base + 11, method: .GET, path: "/metrics")).map {
                        String(buffer: $0.body)
                    } ?? ""
                return Self.sample("herald_migration_phase", in: text) == number
            }
            try #require(moved, "phase \(phase) applied")
            #expect(try await child.api.post("/goim/push/room?operation=1000&type=live&room=console", body: "after-\(phase)").code == 0)
            for member in members {
                var got = false
                while !got, let packet = await member.inbox.next(timeout: .seconds(10)) { got = packet.operation.rawValue == 1000 }
                #expect(got, "a push in \(phase) arrives")
            }
            // A push's twin is counted when its second copy arrives, after the clients have the
            // first: the page and the scrape are read once the count is at rest (in dual-read it
            // has counted the twin).
            var lastPairs: Double? = nil
            let atRest = await eventually(timeout: .seconds(15)) {
                try? await Task.sleep(for: .milliseconds(300))
                let text =
                    (try? await HTTP1Client.request(host: "127.0.0.1", port: base + 11, method: .GET, path: "/metrics")).map {
                        String(buffer: $0.body)
                    } ?? ""
                let pairs = Self.value("herald_migration_twin_lag_seconds_count", in: text) ?? 0
                defer { lastPairs = pairs }
                return pairs == lastPairs && (phase != "dual-read" || pairs > 0)
            }
            #expect(atRest, "\(phase): the twin count settles")
            let stepDOM = try await BrowserDemoTests.dumpDOM(
                chromium: chromium, url: "http://127.0.0.1:\(base + 11)/admin#token=\(Self.token)", virtualTime: 5000)
            let stepMetrics = String(
                buffer: try await HTTP1Client.request(host: "127.0.0.1", port: base + 11, method: .GET, path: "/metrics").body)
            func stepSample(_ series: String) -> Int? { Self.sample(series, in: stepMetrics) }
            #expect(Self.figure("phase", in: stepDOM) == phase)
            // The mean time between a message and its twin on the other backend, as /metrics has it.
            if let pairs = Self.value(#"herald_migration_twin_lag_seconds_count"#, in: stepMetrics), pairs > 0,
                let sum = Self.value(#"herald_migration_twin_lag_seconds_sum"#, in: stepMetrics)
            {
                // As the page prints numbers: rounded to a tenth, en-US grouping.
                let format = NumberFormatter()
                format.locale = Locale(identifier: "en_US")
                format.numberStyle = .decimal
                format.maximumFractionDigits = 1
                let shown = format.string(from: NSNumber(value: (sum / pairs * 1000 * 10).rounded() / 10)) ?? ""
                #expect(Self.figure("twin_lag_ms", in: stepDOM) == shown, "\(phase): twin lag")
            } else {
                #expect(phase != "dual-read", "dual-read pairs twins, so it reports their lag")
            }
            #expect(Self.figure("missing", in: stepDOM) == "0")
            #expect(Self.figure("migration_delivered", in: stepDOM) == stepSample("herald_migration_delivered_total").map(String.init))
            #expect(
                Self.figure("seen_secondary", in: stepDOM)
                    == (stepSample(#"herald_migration_seen_total{backend="secondary"}"#) ?? 0).description)
            let stepVerdict = Self.figure("verdict", in: stepDOM) ?? ""
            if let next {
                #expect(stepVerdict.hasPrefix("not yet safe to go to \(next)"), "\(phase): \(stepVerdict)")
            } else {
                #expect(stepVerdict.hasPrefix("migration done"), "\(phase): \(stepVerdict)")
            }
        }
        for member in members { await member.close() }
    }

    @Test(
        "in a split deployment (logic, job, comet), the console lists the three processes and shows the cluster's figures: the comet's deliveries and the job's consumption, as their own /metrics give them"
    )
    func splitDeployment() async throws {
        let chromium = try #require(BrowserDemoTests.chromium, "chromium is not installed (scripts/install-deps.sh test installs it)")
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        var layout = ClusterTests.Layout(redis: redis.addresses)
        layout.logicExtra = "admin_token = \"\(Self.token)\""
        let b = layout.base
        let metricsToken = "scrape-secret-0123456789"
        // Every process serves /metrics on a listener of its own, behind the cluster's token.
        let metrics = { (port: Int) in "\n[metrics]\nlisten = \"127.0.0.1:\(port)\"\ntoken = \"\(metricsToken)\"\n" }
        let (logicMetrics, jobMetrics, cometMetrics) = (b + 42, b + 53, b + 13)
        let logic = try await HeraldChild(role: "logic", base: b + 30, config: { layout.logic(at: $0) + metrics(logicMetrics) })
        defer { logic.stop() }
        let job = try await HeraldChild(role: "job", base: b + 50, config: { _ in layout.job + metrics(jobMetrics) }, ready: { _ in true })
        defer { job.stop() }
        let comet = try await HeraldChild(
            role: "comet", base: b, config: { layout.comet("comet-a", at: $0) + metrics(cometMetrics) },
            ready: { _ in await ClusterTests.registered(logic).contains("comet-a") })
        defer { comet.stop() }

        let snapshot = { () async throws -> [String: Any] in
            let reply = try await HTTP1Client.request(
                host: "127.0.0.1", port: b + 41, method: .GET, path: "/admin/snapshot", headers: [("Authorization", "Bearer \(Self.token)")]
            )
            return try #require(try JSONSerialization.jsonObject(with: Data(buffer: reply.body)) as? [String: Any])
        }
        let roles = { (s: [String: Any]) -> [String] in ((s["processes"] as? [[String: Any]]) ?? []).compactMap { $0["role"] as? String } }
        #expect(
            await eventually(timeout: .seconds(20)) { (try? await roles(snapshot())) == ["comet", "job", "logic"] },
            "three processes registered")

        let client = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
        #expect(try await client.authenticate(AuthToken(mid: 1, key: "split-console", roomID: "live://split-console", accepts: [1000])))
        // Warm up until the job knows the comet: a broadcast reaches the client.
        var warm = false
        for i in 0..<40 where !warm {
            _ = try await logic.api.post("/goim/push/all?operation=1000", body: "warm-\(i)")
            while let p = await client.inbox.next(timeout: .milliseconds(250)) { if p.text.hasPrefix("warm") { warm = true } }
        }
        #expect(warm, "a broadcast reached the client")
        for i in 0..<5 {
            #expect(try await logic.api.post("/goim/push/room?operation=1000&type=live&room=split-console", body: "m\(i)").code == 0)
        }
        var got = 0
        while got < 5, let packet = await client.inbox.next(timeout: .seconds(10)) {
            if packet.text.hasPrefix("m") { got += 1 }
        }
        #expect(got == 5)

        /// The sum of every series of `name` in a process's own /metrics.
        func own(_ port: Int, _ name: String) async throws -> Int {
            let reply = try await HTTP1Client.request(
                host: "127.0.0.1", port: port, method: .GET, path: "/metrics", headers: [("Authorization", "Bearer \(metricsToken)")])
            return String(buffer: reply.body).split(separator: "\n").filter { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
                .reduce(0) { $0 + Int(Double($1.split(separator: " ").last ?? "") ?? 0) }
        }
        func total(_ figures: [String: Double], _ name: String) -> Int {
            Int(figures.filter { $0.key == name || $0.key.hasPrefix(name + "{") }.values.reduce(0, +))
        }
        // Read at rest: the comet's deliveries no longer change (a late warm-up broadcast included).
        var delivered = try await own(cometMetrics, "herald_push_delivered_total")
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(500))
            let now = try await own(cometMetrics, "herald_push_delivered_total")
            if now == delivered { break }
            delivered = now
        }
        let consumed = try await own(jobMetrics, "herald_queue_consumed_total")
        let published = try await own(logicMetrics, "herald_pushes_total")
        #expect(delivered >= 5 && consumed >= 5 && published >= 5, "delivered \(delivered), consumed \(consumed), published \(published)")
        #expect(try await own(logicMetrics, "herald_push_delivered_total") == 0, "logic delivers nothing itself")
        #expect(try await own(cometMetrics, "herald_pushes_total") == 0, "the comet publishes nothing itself")
        // The snapshot is scraped at most once a second: wait past that for one taken after the pushes.
        try await Task.sleep(for: .milliseconds(1100))
        let s = try await snapshot()
        let figures = try #require(s["metrics"] as? [String: Double])
        #expect(total(figures, "herald_push_delivered_total") == delivered, "the comet's deliveries")
        #expect(total(figures, "herald_queue_consumed_total") == consumed, "the job's consumption")
        #expect(total(figures, "herald_pushes_total") == published, "logic's own pushes, counted once")
        let processes = try #require(s["processes"] as? [[String: Any]])
        #expect(processes.allSatisfy { $0["counted"] as? Bool == true && $0["scrapeError"] == nil }, "every process scraped: \(processes)")
        #expect(processes.allSatisfy { $0["version"] as? String == HeraldVersion.current })

        let dom = try await BrowserDemoTests.dumpDOM(
            chromium: chromium, url: "http://127.0.0.1:\(b + 41)/admin#token=\(Self.token)&view=cluster", virtualTime: 5000)
        #expect(Self.figure("processes", in: dom) == "3")
        for (role, id, port) in [("comet", "comet-a", cometMetrics), ("job", "job", jobMetrics), ("logic", "logic", logicMetrics)] {
            #expect(dom.contains("<td>\(role)</td><td>\(id)</td><td>\(HeraldVersion.current)</td>"), "\(role) listed")
            #expect(dom.contains("<td>counted (127.0.0.1:\(port))</td>"), "\(role)'s figures counted")
        }
        #expect(
            dom.components(separatedBy: " s ago</td>").count - 1 >= 4,
            "how long ago the comet's and the three processes' entries were renewed")
        #expect(Self.figure("delivered_total", in: dom) == "\(delivered)", "the page shows the comet's deliveries")
        #expect(Self.figure("consumed_total", in: dom) == "\(consumed)", "and the job's consumption")
        #expect(dom.contains(#"<section id="traffic" hidden="">"#), "view=cluster shows the cluster alone")
        // Entries the console must not scrape, written straight into Redis: a process that does not
        // answer, an address with a path (where the metrics token must not go), a wildcard address.
        let redisPort = Int(redis.addresses[0].split(separator: ":")[1])!
        for (key, address) in [
            ("job/ghost-down", "127.0.0.1:1"), ("comet/ghost-path", "evil.example:80/x?"), ("job/ghost-wild", "0.0.0.0:9100"),
        ] {
            let parts = key.split(separator: "/")
            let json =
                #"{"id":"\#(parts[1])","role":"\#(parts[0])","version":"0","startedAtMillis":1,"renewedAtMillis":1,"metricsAddress":"\#(address)"}"#
            _ = try RedisServers.send(["SET", "herald_process_\(key)", json, "PX", "60000"], port: redisPort)
            _ = try RedisServers.send(["SADD", "herald_processes", key], port: redisPort)
        }
        try await Task.sleep(for: .milliseconds(1100))
        let withGhosts = try await snapshot()
        let listed = try #require(withGhosts["processes"] as? [[String: Any]])
        #expect(listed.count == 6, "\(listed)")
        for ghost in listed where (ghost["id"] as? String)?.hasPrefix("ghost-") == true {
            #expect(ghost["counted"] as? Bool == false, "\(ghost)")
            #expect((ghost["scrapeError"] as? String)?.isEmpty == false, "\(ghost)")
        }
        #expect(
            (listed.first { $0["id"] as? String == "ghost-path" }?["scrapeError"] as? String)?.contains("not a host:port") == true,
            "\(listed)")
        let ghostFigures = try #require(withGhosts["metrics"] as? [String: Double])
        #expect(total(ghostFigures, "herald_push_delivered_total") == delivered, "the entries that cannot be scraped add nothing")
        await client.close()
    }
}
