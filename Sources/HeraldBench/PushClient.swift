import AsyncHTTPClient
import NIOCore
import NIOPosix

/// The load tool's pusher: `POST /goim/push/room` or `/goim/push/mids` over kept-alive HTTP/1.1 connections (one per
/// push worker, AsyncHTTPClient's pool), so a burst measures the gateway rather than a TCP
/// handshake and teardown per push on both sides.
final class PushClient: Sendable {
    private let client: HTTPClient
    private let base: String

    init(host: String, port: Int, connections: Int) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, connections)
        configuration.connectionPool.idleTimeout = .seconds(60)
        client = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
        base = "http://\(host):\(port)"
    }

    /// Pushes `body` to room `type://room`; true when the API answered code 0.
    func pushRoom(operation: Int32, type: String, room: String, body: String) async throws -> Bool {
        try await post("/goim/push/room?operation=\(operation)&type=\(type)&room=\(room)", body: body).hasPrefix(#"{"code":0"#)
    }

    /// Pushes `body` to user `mid`'s connections; true when the API answered code 0 and the user was online.
    func pushMid(operation: Int32, mid: Int, body: String) async throws -> Bool {
        try await post("/goim/push/mids?operation=\(operation)&mids=\(mid)", body: body).hasPrefix(#"{"code":0,"data":{"offline_mids":[]}"#)
    }

    /// Publishes `body` to nchan channel `channel` (`POST /pub/<channel>`); true when nchan queued it
    /// for its subscribers (201 or 202).
    func publishNchan(channel: Int, body: String) async throws -> Bool {
        var request = HTTPClientRequest(url: base + "/pub/\(channel)")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 64 * 1024)
        return response.status == .created || response.status == .accepted
    }

    /// POSTs `body` to `path`; the answer's text, or "" when the status was not 200.
    private func post(_ path: String, body: String) async throws -> String {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        let answer = try await response.body.collect(upTo: 64 * 1024)
        return response.status == .ok ? String(buffer: answer) : ""
    }

    /// Waits until `GET /goim/online/total` answers code 0; false after `timeout`.
    func ready(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var request = HTTPClientRequest(url: base + "/goim/online/total")
            request.method = .GET
            if let response = try? await client.execute(request, timeout: .seconds(2)),
                let body = try? await response.body.collect(upTo: 64 * 1024), String(buffer: body).hasPrefix(#"{"code":0"#)
            {
                return true
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}
