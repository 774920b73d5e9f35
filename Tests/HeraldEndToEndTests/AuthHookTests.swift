import Foundation
import HeraldApp
import HeraldProtocol
import HeraldTesting
import Hummingbird
import Logging
import NIOCore
import Testing

/// `[logic.auth] mode = "http"` against a real HTTP backend on a loopback port.
@Suite("end to end: http auth hook")
struct AuthHookTests {
    /// An auth backend: `good-<mid>` is admitted into `live://hook`; `refuse` gets 403; `garbage`
    /// gets 200 with a body that is not the expected JSON. It records the Authorization header.
    final class Backend: Sendable {
        let port: Int
        private let task: Task<Void, any Error>

        init() async throws {
            let router = Router()
            router.post("auth") { request, _ -> Response in
                let token = String(buffer: try await request.body.collect(upTo: 4096))
                guard request.headers[.authorization] == "Bearer backend-secret" else { return Response(status: .unauthorized) }
                if token.hasPrefix("good-"), let mid = Int(token.dropFirst(5)) {
                    let body =
                        #"{"mid":\#(mid),"room_id":"live://hook","platform":"web","accepts":[1000],"rooms":["live://hook","chat://*"]}"#
                    return Response(
                        status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
                }
                if token == "garbage" { return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "<html>"))) }
                return Response(status: .forbidden)
            }
            let bound = AsyncStream<Int>.makeStream()
            let app = Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in
                    bound.continuation.yield(channel.localAddress?.port ?? 0)
                    bound.continuation.finish()
                },
                logger: {
                    var l = Logger(label: "auth-backend"); l.logLevel = .critical; return l
                }()
            )
            task = Task { try await app.runService() }
            var iterator = bound.stream.makeAsyncIterator()
            port = await iterator.next() ?? 0
        }

        func stop() async {
            task.cancel()
            _ = try? await task.value
        }
    }

    static func toml(url: String) -> String {
        gatewayTOML(
            logic: """
                [logic.auth]
                mode = "http"
                http_url = "\(url)"
                http_timeout = "4s"
                http_authorization = "Bearer backend-secret"
                """)
    }

    @Test(
        "the backend's answer decides the user, room and the rooms op 12 may enter; a refusal, a bad answer and a backend that is down refuse the connection"
    )
    func hook() async throws {
        let backend = try await Backend()
        try await withGateway(Self.toml(url: "http://127.0.0.1:\(backend.port)/auth")) { g in
            let good = try await SecurityTests.auth(g, "good-41")
            #expect(good.ok)
            #expect(try await g.http.post("/goim/push/room?operation=1000&type=live&room=hook", body: "hooked").code == 0)
            #expect(await good.client.inbox.next()?.text == "hooked")
            #expect(try await g.http.post("/goim/push/mids?operation=1000&mids=41", body: "to 41").code == 0)
            #expect(await good.client.inbox.next()?.text == "to 41")
            // The answer's rooms bound op 12: another room is refused (the reply names the room it
            // is in), a granted pattern is entered.
            #expect(try await good.client.request(.changeRoom, "live://other").map { String(buffer: $0.body) } == "live://hook")
            #expect(try await good.client.request(.changeRoom, "chat://7").map { String(buffer: $0.body) } == "chat://7")

            for body in ["refuse", "garbage"] {
                let r = try await SecurityTests.auth(g, body)
                #expect(!r.ok, "\(body) must be refused")
                #expect(await r.client.inbox.waitForClose())
            }
            #expect(await eventually { (g.closes["auth_failed"] ?? 0) >= 2 }, "\(g.closes)")

            // Backend down: refused (fail closed), the open connection stays.
            await backend.stop()
            let down = try await SecurityTests.auth(g, "good-42")
            #expect(!down.ok)
            #expect(await eventually { (g.closes["auth_failed"] ?? 0) >= 3 }, "\(g.closes)")
            #expect(try await good.client.heartbeat() != nil)
            for c in [good.client, down.client] { await c.close() }
        }
    }

    @Test("http mode without a usable URL is refused at start")
    func badURL() {
        #expect(throws: (any Error).self) {
            _ = try HeraldServer(configuration: HeraldConfiguration.parse(Self.toml(url: "not a url")))
        }
    }
}
