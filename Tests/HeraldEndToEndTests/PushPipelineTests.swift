import Foundation
import HeraldProtocol
import HeraldTesting
import Testing

/// The push endpoints are answered in each API connection's pipeline, before Hummingbird's router
/// (PushRequestHandler). These tests send several requests in one write on one real connection —
/// HTTP/1.1 pipelining, push and router routes mixed — and check that every answer comes back in
/// the order of the requests and every push reaches its client once, in order.
@Suite("end to end: push requests in the API's pipeline", .serialized)
struct PushPipelineTests {
    /// One raw request.
    static func request(_ method: String, _ path: String, body: String = "", headers: String = "") -> String {
        "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n\(headers)\r\n\(body)"
    }

    /// Splits `bytes` into complete responses (each with a Content-Length): status, headers (lower-cased names), body.
    static func responses(_ bytes: [UInt8]) -> [(status: Int, headers: [String: String], body: String)] {
        var out: [(Int, [String: String], String)] = []
        var rest = bytes[...]
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while let end = rest.firstRange(of: separator) {
            let head = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let status = Int(lines.removeFirst().split(separator: " ").dropFirst().first ?? "") ?? 0
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "") ?? 0
            guard rest.distance(from: end.upperBound, to: rest.endIndex) >= length else { break }
            let bodyEnd = rest.index(end.upperBound, offsetBy: length)
            out.append((status, headers, String(decoding: rest[end.upperBound..<bodyEnd], as: UTF8.self)))
            rest = rest[bodyEnd...]
        }
        return out
    }

    /// Sends `requests` in one write and reads until `count` complete responses arrived, the
    /// server closed, or 10 s passed. The blocking read runs on a thread of its own: the gateway
    /// under test runs in this process and needs the concurrency pool's threads.
    static func pipeline(
        port: Int, _ requests: [String], expecting count: Int, thenCloseWriting: Bool = false
    ) async -> (answers: [(status: Int, headers: [String: String], body: String)], closed: Bool) {
        let bytes = Array(requests.joined().utf8)
        let (read, closed): ([UInt8], Bool) = await withCheckedContinuation { done in
            Thread {
                guard let socket = try? LoopbackSocket(port: port, timeout: 10) else { return done.resume(returning: ([], true)) }
                socket.send(bytes)
                if thenCloseWriting { socket.shutdownWrite() }
                let read = socket.read { responses($0).count >= count }
                done.resume(returning: (read.bytes, read.closed))
            }.start()
        }
        return (responses(read), closed)
    }

    @Test("pipelined requests, pushes and router routes mixed, are answered in order, and each push arrives once, in order")
    func mixedPipeline() async throws {
        try await withGateway { gw in
            let c = try await gw.client(.tcp, AuthToken(mid: 1, key: "k1", roomID: "live://p", accepts: [1000]))
            let requests = [
                Self.request("GET", "/goim/online/top?type=live&limit=3"),
                Self.request("POST", "/goim/push/keys?operation=1000&keys=k1", body: "one"),
                Self.request("GET", "/goim/online/top?type=live"),
                Self.request("POST", "/goim/push/mids?operation=1000&mids=1,2", body: "two"),
                Self.request("POST", "/goim/push/keys?keys=k1", body: "never"),
                Self.request("POST", "/goim/push/room?operation=1000&type=live&room=p", body: "three"),
                Self.request("GET", "/goim/nodes/instances"),
            ]
            let (answers, _) = await Self.pipeline(port: gw.apiPort, requests, expecting: requests.count)
            try #require(answers.count == requests.count, "answers: \(answers.map(\.body))")
            #expect(answers[0].body.contains(#""code":0"#) && answers[0].body.contains(#""data":["#))
            #expect(answers[1].body == #"{"code":0,"message":""}"#)
            #expect(answers[2].body.contains(#""code":-400"#) && answers[2].body.contains("limit:"))
            #expect(answers[3].body == #"{"code":0,"data":{"offline_mids":[2]},"message":""}"#)
            #expect(answers[4].body.contains(#""code":-400"#) && answers[4].body.contains("operation:"))
            #expect(answers[5].body == #"{"code":0,"message":""}"#)
            #expect(answers[6].body.contains("test-comet"))
            #expect(answers.allSatisfy { $0.status == 200 && $0.headers["server"] == "herald" })
            var bodies: [String] = []
            for _ in 0..<3 {
                guard let packet = await c.inbox.next(timeout: .seconds(10)) else { break }
                bodies.append(String(buffer: packet.body))
            }
            // Order is kept per key (a room push travels its own lane, so it may come between).
            #expect(bodies.filter { $0 != "three" } == ["one", "two"])
            #expect(bodies.contains("three"))
            #expect(await c.inbox.next(timeout: .milliseconds(500)) == nil, "nothing twice")
            await c.close()
        }
    }

    @Test("a push published by a task (kept in history first) holds the requests after it until it is answered")
    func asyncPushKeepsOrder() async throws {
        try await withGateway(RecoveryTests.toml()) { gw in
            let c = try await gw.client(.tcp, AuthToken(mid: 7, key: "k7", accepts: [1000]))
            let requests = [
                Self.request("POST", "/goim/push/mids?operation=1000&mids=7", body: "kept-1"),
                Self.request("POST", "/goim/push/keys?operation=1000&keys=k7", body: "direct"),
                Self.request("GET", "/goim/online/total"),
                Self.request("POST", "/goim/push/mids?operation=1000&mids=7", body: "kept-2"),
            ]
            let (answers, _) = await Self.pipeline(port: gw.apiPort, requests, expecting: requests.count)
            try #require(answers.count == requests.count, "answers: \(answers.map(\.body))")
            #expect(answers[0].body == #"{"code":0,"data":{"offline_mids":[]},"message":""}"#)
            #expect(answers[1].body == #"{"code":0,"message":""}"#)
            #expect(answers[2].body.contains(#""conn_count":1"#))
            #expect(answers[3].body == #"{"code":0,"data":{"offline_mids":[]},"message":""}"#)
            var bodies: [String] = []
            for _ in 0..<3 {
                guard let packet = await c.inbox.next(timeout: .seconds(10)) else { break }
                bodies.append(String(buffer: packet.body))
            }
            #expect(bodies == ["kept-1", "direct", "kept-2"])
            let history = try await gw.http.get("/goim/history?mid=7")
            // Both pushes to the user were kept (bodies are base64), the direct push to the key not.
            #expect(history.data?.contains(#""top":2"#) == true, "history: \(history.data ?? "none")")
            #expect(history.data?.contains(Data("kept-2".utf8).base64EncodedString()) == true)
            await c.close()
        }
    }

    @Test("a push with Connection: close is answered, then the connection is closed; a body over the limit gets 413")
    func closeAndLimits() async throws {
        try await withGateway(gatewayTOML(logic: "max_message_size = 8")) { gw in
            let c = try await gw.client(.tcp, AuthToken(mid: 3, key: "k3", accepts: [1000]))
            let (tooBig, _) = await Self.pipeline(
                port: gw.apiPort, [Self.request("POST", "/goim/push/keys?operation=1000&keys=k3", body: "123456789")], expecting: 1)
            try #require(tooBig.count == 1)
            #expect(tooBig[0].status == 413 && tooBig[0].body.contains("body:"))
            let (answers, closed) = await Self.pipeline(
                port: gw.apiPort,
                [Self.request("POST", "/goim/push/keys?operation=1000&keys=k3", body: "last", headers: "Connection: close\r\n")],
                expecting: 2)
            try #require(answers.count == 1)
            #expect(answers[0].body == #"{"code":0,"message":""}"#)
            #expect(answers[0].headers["connection"] == "close")
            #expect(closed, "the server closed the connection after its answer")
            let packet = await c.inbox.next(timeout: .seconds(10))
            #expect(packet.map { String(buffer: $0.body) } == "last")
            #expect(await c.inbox.next(timeout: .milliseconds(300)) == nil, "the refused body was not pushed")
            await c.close()
        }
    }

    @Test("after a request that asks for Connection: close, nothing later on that connection is served or pushed")
    func nothingAfterClose() async throws {
        try await withGateway { gw in
            let c = try await gw.client(.tcp, AuthToken(mid: 4, key: "k4", accepts: [1000]))
            let afterPush = [
                Self.request("POST", "/goim/push/keys?operation=1000&keys=k4", body: "first", headers: "Connection: close\r\n"),
                Self.request("POST", "/goim/push/keys?operation=1000&keys=k4", body: "after-push"),
            ]
            let (answers, closed) = await Self.pipeline(port: gw.apiPort, afterPush, expecting: 2)
            #expect(answers.count == 1 && answers.first?.headers["connection"] == "close", "answers: \(answers.map(\.body))")
            #expect(closed)
            let afterRoute = [
                Self.request("GET", "/goim/online/total", headers: "Connection: close\r\n"),
                Self.request("POST", "/goim/push/keys?operation=1000&keys=k4", body: "after-route"),
            ]
            let (routed, _) = await Self.pipeline(port: gw.apiPort, afterRoute, expecting: 2)
            #expect(routed.count == 1 && routed.first?.body.contains(#""conn_count":1"#) == true, "answers: \(routed.map(\.body))")
            // A marker pushed on a connection of its own comes after anything the two above published.
            #expect(try await gw.http.post("/goim/push/keys?operation=1000&keys=k4", body: "marker").code == 0)
            var bodies: [String] = []
            while bodies.last != "marker", let packet = await c.inbox.next(timeout: .seconds(10)) {
                bodies.append(String(buffer: packet.body))
            }
            #expect(bodies == ["first", "marker"])
            await c.close()
        }
    }

    @Test("a malformed request, or the end of the client's input, behind a push published by a task: the push is answered first")
    func errorsWaitForTheAsyncPush() async throws {
        try await withGateway(RecoveryTests.toml()) { gw in
            let c = try await gw.client(.tcp, AuthToken(mid: 8, key: "k8", accepts: [1000]))
            let accepted = #"{"code":0,"data":{"offline_mids":[]},"message":""}"#
            let malformed = [Self.request("POST", "/goim/push/mids?operation=1000&mids=8", body: "kept-1"), "NOT HTTP\r\n\r\n"]
            let (answers, _) = await Self.pipeline(port: gw.apiPort, malformed, expecting: 2)
            try #require(answers.count == 2, "answers: \(answers.map(\.body))")
            #expect(answers[0].status == 200 && answers[0].body == accepted)
            #expect(answers[1].status == 400)
            let halfClosed = [Self.request("POST", "/goim/push/mids?operation=1000&mids=8", body: "kept-2")]
            let (last, _) = await Self.pipeline(port: gw.apiPort, halfClosed, expecting: 1, thenCloseWriting: true)
            #expect(last.count == 1 && last.first?.body == accepted, "answers: \(last.map(\.body))")
            var bodies: [String] = []
            for _ in 0..<2 {
                guard let packet = await c.inbox.next(timeout: .seconds(10)) else { break }
                bodies.append(String(buffer: packet.body))
            }
            #expect(bodies == ["kept-1", "kept-2"])
            await c.close()
        }
    }

    @Test("refusals are answered in order with the pushes around them; empty path segments still reach the push; answers carry Date")
    func refusalsInOrder() async throws {
        try await withGateway(gatewayTOML(logic: "api_token = \"s3cret\"")) { gw in
            let c = try await gw.client(.tcp, AuthToken(mid: 5, key: "k5", accepts: [1000]))
            let token = "Authorization: Bearer s3cret\r\n"
            let requests = [
                Self.request("POST", "/goim/push/keys?operation=1000&keys=k5", body: "no-token"),
                Self.request("POST", "/goim//push/keys/?operation=1000&keys=k5", body: "one", headers: token),
                Self.request(
                    "POST", "/goim/push/keys?operation=1000&keys=k5", body: "bad-token", headers: "Authorization: Bearer nope\r\n"),
                Self.request("POST", "/goim/push/keys?operation=1000&keys=k5", body: "two", headers: token),
            ]
            let (answers, _) = await Self.pipeline(port: gw.apiPort, requests, expecting: requests.count)
            try #require(answers.count == requests.count, "answers: \(answers.map(\.body))")
            #expect(answers.map(\.status) == [401, 200, 401, 200])
            #expect(answers[0].body.contains(#""code":-401"#) && answers[0].headers["www-authenticate"] == "Bearer")
            #expect(answers.allSatisfy { $0.headers["date"]?.hasSuffix(" GMT") == true }, "\(answers.map(\.headers))")
            var bodies: [String] = []
            for _ in 0..<2 {
                guard let packet = await c.inbox.next(timeout: .seconds(10)) else { break }
                bodies.append(String(buffer: packet.body))
            }
            #expect(bodies == ["one", "two"])
            #expect(await c.inbox.next(timeout: .milliseconds(300)) == nil, "the refused pushes were not pushed")
            await c.close()
        }
    }
}
