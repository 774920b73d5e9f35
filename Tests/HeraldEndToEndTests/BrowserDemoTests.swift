import Foundation
import HeraldProtocol
import Testing

/// Drives the demo page (`/demo`) in headless Chromium: the page's own JavaScript client connects,
/// pushes through the API and shows what arrives. Requires the Debian `chromium` package, which
/// scripts/test.sh installs.
@Suite("end to end: browser demo", .serialized)
struct BrowserDemoTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("a pushed message appears on the page over WebSocket and over long-poll", arguments: ["websocket", "longpoll"])
    func demoPage(transport: String) async throws {
        guard let chromium = Self.chromium else {
            Issue.record("chromium is not installed (scripts/test.sh installs it)")
            return
        }
        try await withGateway(gatewayTOML(logic: "demo = true")) { gw in
            // For long-poll the WebSocket URL points at a closed port, so the client must fall back.
            let ws = transport == "websocket" ? "ws://127.0.0.1:\(gw.wsPort)/sub" : "ws://127.0.0.1:9/sub"
            let url =
                "http://127.0.0.1:\(gw.apiPort)/demo?ws=\(ws)&lp=http://127.0.0.1:\(gw.longPollPort)/sub"
                + "&selftest=1&wstimeout=600000"
            var dom = ""
            var marker: String?
            for _ in 0..<3 {
                dom = try await Self.dumpDOM(chromium: chromium, url: url)
                marker = Self.selfTestText(dom)
                if let marker, dom.contains("<li>op 1000: \(marker)</li>") { break }
            }
            let text = try #require(marker, "the page shows the text it pushes")
            #expect(text.hasPrefix("selftest-") && text.count > "selftest-".count)
            #expect(dom.contains(#"<span id="transport">\#(transport)</span>"#), "the page used \(transport)")
            #expect(dom.contains("<li>op 1000: \(text)</li>"), "the pushed message is on the page")
        }
    }

    @Test(
        "the JavaScript client drops its connection, reconnects with backoff and recovers: r0…r9 once each, in order",
        arguments: ["websocket", "longpoll"])
    func clientRecovers(transport: String) async throws {
        guard let chromium = Self.chromium else {
            Issue.record("chromium is not installed (scripts/test.sh installs it)")
            return
        }
        try await withGateway(gatewayTOML(logic: "demo = true", extra: "[history]\nenabled = true")) { gw in
            let ws = transport == "websocket" ? "ws://127.0.0.1:\(gw.wsPort)/sub" : "ws://127.0.0.1:9/sub"
            let url =
                "http://127.0.0.1:\(gw.apiPort)/demo?ws=\(ws)&lp=http://127.0.0.1:\(gw.longPollPort)/sub"
                + "&recovertest=1&wstimeout=600000"
            // The page keeps itself busy on the network (20 ms of virtual time per request) until
            // it is through; the budget lets that last up to 3,000 requests of real time.
            let dom = try await Self.dumpDOM(chromium: chromium, url: url, virtualTime: 60_000)
            #expect(
                Self.span("recovertest", dom) == (0..<10).map { "r\($0)" }.joined(separator: ","),
                "\(Self.span("recovertest", dom) ?? "nothing")")
            #expect(
                Self.span("recovered", dom) == "true",
                "status \(Self.span("status", dom) ?? "-"), messages \(dom.components(separatedBy: "<li>").dropFirst().map { $0.prefix(20) })"
            )
            #expect(dom.contains(#"<span id="transport">\#(transport)</span>"#), "the page used \(transport)")
        }
    }

    static func span(_ id: String, _ dom: String) -> String? {
        guard let start = dom.range(of: #"<span id="\#(id)">"#), let end = dom[start.upperBound...].range(of: "</span>") else { return nil }
        return String(dom[start.upperBound..<end.lowerBound])
    }

    @Test("a page on another site cannot make a visitor's browser push: its simple cross-origin POST is refused and nothing is delivered")
    func crossSiteRequestForgery() async throws {
        guard let chromium = Self.chromium else {
            Issue.record("chromium is not installed (scripts/test.sh installs it)")
            return
        }
        try await withGateway { gw in
            let victim = try await gw.client(.tcp, AuthToken(mid: 1, key: "victim", roomID: "live://csrf", accepts: [1000]))
            // The attacker's page: a text/plain POST in no-cors mode needs no preflight, so without
            // the server's Origin check it would be delivered.
            let page = FileManager.default.temporaryDirectory.appendingPathComponent("herald-csrf-\(UUID().uuidString).html")
            let html = """
                <!doctype html><html><body><p id="state">sending</p><script>
                fetch("http://127.0.0.1:\(gw.apiPort)/goim/push/room?operation=1000&type=live&room=csrf",
                      { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: "forged by a page" })
                  .then(() => { document.getElementById("state").textContent = "sent"; })
                  .catch(() => { document.getElementById("state").textContent = "failed"; });
                </script></body></html>
                """
            try html.write(to: page, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: page) }
            let dom = try await Self.dumpDOM(chromium: chromium, url: page.absoluteString)
            #expect(dom.contains(#"<p id="state">sent</p>"#), "the browser sent the request: \(dom.prefix(300))")
            // The same push from a backend (no Origin) arrives, so the forged one would have too.
            #expect(try await gw.http.post("/goim/push/room?operation=1000&type=live&room=csrf", body: "from the backend").code == 0)
            #expect(await receiveTexts(victim, count: 1) == ["from the backend"], "the page's push was refused")
            await victim.close()
        }
    }

    /// The random text the page pushed in its self-test.
    static func selfTestText(_ dom: String) -> String? {
        guard let start = dom.range(of: #"<span id="selftest">"#), let end = dom[start.upperBound...].range(of: "</span>") else {
            return nil
        }
        let text = String(dom[start.upperBound..<end.lowerBound])
        return text.isEmpty ? nil : text
    }

    /// Loads the page headless and returns the DOM once the page went idle.
    static func dumpDOM(
        chromium: String, url: String, virtualTime: Int = 10_000, extraArguments: [String] = [], killAfter: Duration = .seconds(40)
    ) async throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("herald-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments =
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--user-data-dir=\(profile.path)", "--virtual-time-budget=\(virtualTime)",
            ] + extraArguments + ["--dump-dom", url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let killer = Task {
            try await Task.sleep(for: killAfter)
            if process.isRunning { process.terminate() }
        }
        let data = await withCheckedContinuation { (c: CheckedContinuation<Data, Never>) in
            DispatchQueue.global().async {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                c.resume(returning: data)
            }
        }
        killer.cancel()
        return String(decoding: data, as: UTF8.self)
    }
}
