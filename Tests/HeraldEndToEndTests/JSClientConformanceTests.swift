import AsyncHTTPClient
import Foundation
import HeraldProtocol
import HeraldTesting
import Testing

/// The client conformance suite for the JavaScript package (`clients/js/herald.js`): its page
/// (`clients/js/test/conformance.html`) runs the scenarios in headless Chromium against real
/// gateways — auth, heartbeat, push by key, user, room and to all over WebSocket and long-poll, op
/// filtering, room changes, a dropped connection recovered, a server down at first, a refused
/// token, a drain — and this test checks each scenario's verdict and what the servers counted.
/// The page is opened from the file system, so Chromium is told to let it import its module and
/// call the gateways' APIs (`--allow-file-access-from-files`, `--disable-web-security`): test-only
/// flags for a test-only page; the demo test loads the served client without them.
@Suite("client conformance: JavaScript in headless Chromium", .serialized)
struct JSClientConformanceTests {
    static let scenarios = [
        "backoff", "down-at-first", "pushes-websocket", "pushes-longpoll", "filtering", "change-room", "drop-and-recover", "heartbeat",
        "refused-token", "drain",
    ]

    @Test("every scenario passes, and the servers saw what the page did")
    func conformance() async throws {
        let chromium = try #require(BrowserDemoTests.chromium, "chromium is not installed (scripts/install-deps.sh test installs it)")
        // The server closes a connection after 2 s × 2 without a heartbeat; history is on for recovery.
        let live = gatewayTOML(logic: "heartbeat = \"2s\"\nheartbeat_max = 2", extra: "[history]\nenabled = true")
        let jwt = gatewayTOML(
            logic: "[logic.auth]\nmode = \"jwt\"\njwt_algorithm = \"HS256\"\njwt_secret = \"a-test-secret-of-at-least-32-bytes\"")
        let drained = gatewayTOML().replacingOccurrences(of: "drain_window = \"0s\"", with: "drain_window = \"200ms\"")
        try await withGateway(live) { main in
            try await withGateway(jwt) { refusing in
                try await withGateway(drained) { leaving in
                    let coordinator = try await main.client(.tcp, AuthToken(mid: 9999, accepts: [1000]))
                    // Its heartbeats keep it past the 4 s timeout (their replies are skipped by `signal`).
                    let beating = Task {
                        while !Task.isCancelled {
                            try? await coordinator.send(Packet(version: 1, operation: .heartbeat, sequence: 2))
                            try? await Task.sleep(for: .milliseconds(500))
                        }
                    }
                    defer { beating.cancel() }
                    let late = TestPorts.block()
                    var query = URLComponents()
                    query.queryItems = [
                        .init(name: "api", value: "http://127.0.0.1:\(main.apiPort)"),
                        .init(name: "ws", value: "ws://127.0.0.1:\(main.wsPort)/sub"),
                        .init(name: "lp", value: "http://127.0.0.1:\(main.longPollPort)/sub"),
                        .init(name: "jwt", value: "ws://127.0.0.1:\(refusing.wsPort)/sub"),
                        .init(name: "late", value: "ws://127.0.0.1:\(late + 2)/sub"),
                        .init(name: "lateapi", value: "http://127.0.0.1:\(late + 11)"),
                        .init(name: "drain", value: "ws://127.0.0.1:\(leaving.wsPort)/sub"),
                        .init(name: "coordinator", value: "9999"),
                    ]
                    let page = HeraldChild.root.appendingPathComponent("clients/js/test/conformance.html")
                    let url = "file://\(page.path)?\(query.percentEncodedQuery ?? "")"
                    let run = Task {
                        try await BrowserDemoTests.dumpDOM(
                            chromium: chromium, url: url, virtualTime: 600_000,
                            extraArguments: ["--allow-file-access-from-files", "--disable-web-security"], killAfter: .seconds(150))
                    }
                    // The page says when its client is retrying against the server that is not up yet…
                    #expect(await Self.signal("down-at-first: retrying", on: coordinator), "the page reached down-at-first")
                    let child = try await HeraldChild(base: late) {
                        HeraldChild.baseTOML($0) + "[transport.websocket]\nlisten = \"127.0.0.1:\($0 + 2)\"\n"
                    }
                    defer { child.stop() }
                    // …and when its client is connected to the server this test then shuts down.
                    #expect(await Self.signal("drain: connected", on: coordinator), "the page reached drain")
                    await leaving.server.shutdown()
                    let dom = try await run.value
                    #expect(dom.contains(#"<p id="done">done</p>"#), "the page ran to its end: \(dom.suffix(3000))")
                    for name in Self.scenarios {
                        let verdict = Self.verdict(name, dom)
                        #expect(verdict == "pass", "\(name): \(verdict ?? "did not run")")
                    }
                    #expect(refusing.closes["auth_failed"] == 3, "three attempts with the refused token, then none: \(refusing.closes)")
                    #expect((main.closes["heartbeat_timeout"] ?? 0) >= 1, "the silent client was closed by the server: \(main.closes)")
                    #expect((leaving.closes["server_shutdown"] ?? 0) == 1, "\(leaving.closes)")
                    await coordinator.close()
                }
            }
        }
    }

    @Test("the server serves clients/js/herald.js as it is in the repository (scripts/embed-js-client.sh)")
    func servedScript() async throws {
        try await withGateway(gatewayTOML(logic: "demo = true")) { gw in
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(gw.apiPort)/demo/herald.js"), timeout: .seconds(10))
            let served = String(buffer: try await response.body.collect(upTo: 1 << 20))
            let file = try String(contentsOf: HeraldChild.root.appendingPathComponent("clients/js/herald.js"), encoding: .utf8)
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "content-type")?.hasPrefix("text/javascript") == true)
            #expect(served == file, "run scripts/embed-js-client.sh after changing clients/js/herald.js")
        }
    }

    /// Waits (up to a minute) for `text` pushed to the coordinator.
    static func signal(_ text: String, on client: any GoimClient) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let packet = await client.inbox.next(timeout: deadline - ContinuousClock.now), packet.operation.rawValue == 1000,
                packet.text == text
            {
                return true
            }
        }
        return false
    }

    static func verdict(_ name: String, _ dom: String) -> String? {
        guard let start = dom.range(of: #"<li id="t-\#(name)">"#), let end = dom[start.upperBound...].range(of: "</li>") else { return nil }
        return String(dom[start.upperBound..<end.lowerBound])
    }
}
