import Foundation
import HeraldProtocol
import HeraldTesting
import Testing

/// The monitoring kit in deploy/: the Grafana dashboard has Grafana's dashboard shape, every metric
/// it and the Prometheus alert rules use is one the real executables expose, and the rules pass
/// promtool's checks and their own unit tests.
@Suite("deploy/: Grafana dashboard and Prometheus alert rules", .serialized)
struct DeployKitTests {
    static let dashboardFile = HeraldChild.root.appendingPathComponent("deploy/grafana/herald-dashboard.json")
    static let rulesDirectory = HeraldChild.root.appendingPathComponent("deploy/prometheus")

    static func dashboard() throws -> [String: Any] {
        let data = try Data(contentsOf: dashboardFile)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "the dashboard is a JSON object")
    }

    /// Every PromQL expression of the dashboard's panels.
    static func dashboardExpressions() throws -> [String] {
        let panels = try dashboard()["panels"] as? [[String: Any]] ?? []
        return panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
    }

    /// Every `expr:` of the alert rules: one line, or a `|` block (the lines indented deeper than
    /// the `expr:` key).
    static func ruleExpressions() throws -> [String] {
        let text = try String(contentsOf: rulesDirectory.appendingPathComponent("herald-alerts.yml"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
        var expressions: [String] = []
        var i = 0
        while i < lines.count {
            let trimmed = lines[i].trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("expr:") {
                let rest = trimmed.dropFirst(5).trimmingCharacters(in: .whitespaces)
                if rest == "|" {
                    let keyIndent = indent(lines[i])
                    var block: [String] = []
                    while i + 1 < lines.count, indent(lines[i + 1]) > keyIndent, !lines[i + 1].trimmingCharacters(in: .whitespaces).isEmpty
                    {
                        i += 1
                        block.append(lines[i].trimmingCharacters(in: .whitespaces))
                    }
                    expressions.append(block.joined(separator: " "))
                } else {
                    expressions.append(rest)
                }
            }
            i += 1
        }
        return expressions
    }

    /// The metric families an expression names (a histogram's `_bucket` series count as the histogram).
    static func metricNames(in expression: String) -> Set<String> {
        let regex = try! NSRegularExpression(pattern: "herald_[a-z_]+")
        let range = NSRange(expression.startIndex..., in: expression)
        return Set(
            regex.matches(in: expression, range: range).compactMap { match in
                Range(match.range, in: expression).map { String(expression[$0]) }
            }.map { name in
                for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
                return name
            })
    }

    @Test(
        "the dashboard has Grafana's dashboard shape: title, uid, schemaVersion, a datasource variable, panels with unique ids on the 24-column grid, each query a PromQL expression on that datasource"
    )
    func dashboardShape() throws {
        let d = try Self.dashboard()
        #expect((d["title"] as? String)?.isEmpty == false)
        #expect((d["uid"] as? String)?.isEmpty == false)
        #expect((d["schemaVersion"] as? Int ?? 0) >= 36, "a schema current Grafana versions load without migrating")
        let variables = (d["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        #expect(
            variables.contains {
                $0["name"] as? String == "datasource" && $0["type"] as? String == "datasource" && $0["query"] as? String == "prometheus"
            })
        let panels = try #require(d["panels"] as? [[String: Any]])
        #expect(panels.count >= 10)
        var ids = Set<Int>()
        for panel in panels {
            let title = panel["title"] as? String ?? ""
            let id = try #require(panel["id"] as? Int, "panel \(title) has an id")
            #expect(ids.insert(id).inserted, "panel id \(id) is unique")
            let type = panel["type"] as? String ?? ""
            #expect(["row", "timeseries", "stat"].contains(type), "panel \(title): type \(type)")
            #expect(!title.isEmpty)
            let grid = try #require(panel["gridPos"] as? [String: Int], "panel \(title) has a gridPos")
            let (x, w, h) = (grid["x"] ?? -1, grid["w"] ?? 0, grid["h"] ?? 0)
            #expect(x >= 0 && w > 0 && h > 0 && x + w <= 24 && grid["y"] != nil, "panel \(title) sits on the grid: \(grid)")
            guard type != "row" else { continue }
            #expect(
                (panel["datasource"] as? [String: Any])?["uid"] as? String == "${datasource}", "panel \(title) uses the datasource variable"
            )
            let targets = try #require(panel["targets"] as? [[String: Any]], "panel \(title) has targets")
            #expect(!targets.isEmpty)
            for target in targets {
                let expr = target["expr"] as? String ?? ""
                #expect(!Self.metricNames(in: expr).isEmpty, "panel \(title): \(expr) queries a herald metric")
                #expect(target["refId"] is String)
            }
        }
    }

    @Test("promtool accepts the alert rules and their unit tests pass (each alert fires on the series it is for, and not on healthy ones)")
    func alertRules() throws {
        for arguments in [["check", "rules", "herald-alerts.yml"], ["test", "rules", "herald-alerts.test.yml"]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
            try #require(
                FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"),
                "promtool is installed by scripts/install-deps.sh test (Debian package prometheus)")
            process.arguments = arguments
            process.currentDirectoryURL = Self.rulesDirectory
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "promtool \(arguments.joined(separator: " ")): \(printed)")
        }
    }

    @Test(
        "every metric the dashboard and the alert rules use is exposed by the executables: herald serve (migration queue in dual-read, history on, a client) and herald logic of a split deployment (the comet registry)"
    )
    func metricsExist() async throws {
        let rules = try Self.ruleExpressions()
        #expect(rules.count == 7 && rules.allSatisfy { !Self.metricNames(in: $0).isEmpty }, "every rule's expression is read: \(rules)")
        let used = try (Self.dashboardExpressions() + rules).reduce(into: Set<String>()) { $0.formUnion(Self.metricNames(in: $1)) }
        #expect(used.count >= 20)

        // herald serve on the migration queue (kafka's development broker and zeromq, both consumed
        // in dual-read) with history: a client authenticates, receives a room push and a user push,
        // and goes away.
        let serve = try await HeraldChild { base in
            MigrationEndToEndTests.config(base: base, phase: "dual-read") + "\n[history]\nenabled = true\n"
        }
        defer { serve.stop() }
        let client = try await GoimTCPClient.connect(host: "127.0.0.1", port: serve.tcpPort)
        #expect(try await client.authenticate(AuthToken(mid: 5, key: "kit", roomID: "live://kit", accepts: [1000])))
        _ = try await serve.api.post("/goim/push/room?operation=1000&type=live&room=kit", body: "room")
        _ = try await serve.api.post("/goim/push/mids?operation=1000&mids=5", body: "user")
        var received = 0
        while received < 2, await client.inbox.next(timeout: .seconds(10)) != nil { received += 1 }
        #expect(received == 2)
        await client.close()

        // herald logic of a split deployment: its view of the comet registry.
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        let layout = ClusterTests.Layout(redis: redis.addresses)
        let logic = try await HeraldChild(role: "logic", base: layout.base + 30, config: { layout.logic(at: $0) })
        defer { logic.stop() }

        func families(_ child: HeraldChild) async throws -> Set<String> {
            let reply = try await HTTP1Client.request(host: "127.0.0.1", port: child.base + 11, method: .GET, path: "/metrics")
            return Set(
                String(buffer: reply.body).split(separator: "\n").compactMap { line -> String? in
                    let words = line.split(separator: " ")
                    return words.count >= 3 && words[0] == "#" && words[1] == "TYPE" ? String(words[2]) : nil
                })
        }
        var exposed = Set<String>()
        let complete = await eventually(timeout: .seconds(20)) {
            exposed = ((try? await families(serve)) ?? []).union((try? await families(logic)) ?? [])
            return used.isSubset(of: exposed)
        }
        #expect(complete, "used but not exposed: \(used.subtracting(exposed).sorted())")
    }
}
