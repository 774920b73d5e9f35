import Foundation
import HeraldApp
import HeraldProtocol
import HeraldTesting
import JWTKit
import NIOCore
import Testing
import _CryptoExtras

/// Token verification, the API's bearer token, and the WebSocket Origin allow-list.
@Suite("end to end: auth and access")
struct SecurityTests {
    struct Claims: JWTPayload {
        var exp: ExpirationClaim
        var mid: Int64?
        var room_id: String?
        var accepts: [Int32]?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static let secret = "a-test-secret-of-at-least-32-bytes"

    static func hs256(_ claims: some JWTPayload, secret: String = secret) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    static func valid(mid: Int64 = 77) -> Claims {
        Claims(exp: .init(value: Date().addingTimeInterval(600)), mid: mid, room_id: "live://jwt", accepts: [1000])
    }

    /// Sends `body` as op 7; true when the server answered op 8, false when it closed the connection.
    static func auth(_ g: Gateway, _ body: String) async throws -> (ok: Bool, client: any GoimClient) {
        let c = try await g.tcp()
        try await c.send(Packet(version: 1, operation: .auth, sequence: 1, body: ByteBuffer(string: body)))
        let reply = await c.inbox.next(timeout: .seconds(5))
        return (reply?.operation == .authReply, c)
    }

    @Test("jwt (HS256): the claims decide the user and room; expired, badly signed and user-less tokens are refused")
    func hs256() async throws {
        let toml = gatewayTOML(logic: "[logic.auth]\nmode = \"jwt\"\njwt_algorithm = \"HS256\"\njwt_secret = \"\(Self.secret)\"")
        try await withGateway(toml) { g in
            let good = try await Self.auth(g, try await Self.hs256(Self.valid()))
            #expect(good.ok)
            #expect(try await g.http.post("/goim/push/mids?operation=1000&mids=77", body: "to 77").code == 0)
            #expect(await good.client.inbox.next()?.text == "to 77")
            #expect(try await g.http.post("/goim/push/room?operation=1000&type=live&room=jwt", body: "to the room").code == 0)
            #expect(await good.client.inbox.next()?.text == "to the room")

            // The JSON form carries the token; a mid in the JSON cannot override the claims.
            let json = try await Self.auth(g, #"{"mid":1,"token":"\#(try await Self.hs256(Self.valid(mid: 78)))","accepts":[1000]}"#)
            #expect(json.ok)
            #expect(try await g.http.post("/goim/push/mids?operation=1000&mids=1", body: "x").data == #"{"offline_mids":[1]}"#)

            var expired = Self.valid()
            expired.exp = .init(value: Date().addingTimeInterval(-60))
            let refused = [
                ("expired", try await Self.hs256(expired)),
                ("wrong signature", try await Self.hs256(Self.valid(), secret: "another-secret-of-at-least-32-bytes")),
                ("no user", try await Self.hs256(Claims(exp: .init(value: Date().addingTimeInterval(600)), mid: nil))),
                ("goim's plain JSON", #"{"mid":77,"room_id":"live://jwt","accepts":[1000]}"#),
            ]
            for (what, body) in refused {
                let r = try await Self.auth(g, body)
                #expect(!r.ok, "\(what) must be refused")
                #expect(await r.client.inbox.waitForClose(), "\(what): connection closed")
            }
            #expect(await eventually { (g.closes["auth_failed"] ?? 0) >= refused.count }, "\(g.closes)")
            for c in [good.client, json.client] { await c.close() }
        }
    }

    @Test("jwt (RS256) with a PEM public key")
    func rs256() async throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("herald-rs256-\(UUID().uuidString).pem")
        try key.publicKey.pemRepresentation.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let keys = JWTKeyCollection()
        await keys.add(rsa: try Insecure.RSA.PrivateKey(backing: key), digestAlgorithm: .sha256)
        let token = try await keys.sign(Self.valid(mid: 90))
        let toml = gatewayTOML(logic: "[logic.auth]\nmode = \"jwt\"\njwt_algorithm = \"RS256\"\njwt_public_key_file = \"\(file.path)\"")
        try await withGateway(toml) { g in
            let good = try await Self.auth(g, token)
            #expect(good.ok)
            let forged = try await Self.auth(g, try await Self.hs256(Self.valid(mid: 90)))
            #expect(!forged.ok, "an HS256 token is refused when RS256 is configured")
            await good.client.close()
        }
    }

    @Test("a jwt configuration without its key fails at start-up naming the key")
    func badConfiguration() throws {
        let config = try HeraldConfiguration.parse(gatewayTOML(logic: "[logic.auth]\nmode = \"jwt\""))
        #expect { try HeraldServer(configuration: config) } throws: { "\($0)".contains("jwt_secret") }
        let short = try HeraldConfiguration.parse(gatewayTOML(logic: "[logic.auth]\nmode = \"jwt\"\njwt_secret = \"short\""))
        #expect { try HeraldServer(configuration: short) } throws: { "\($0)".contains("at least 32 bytes") }
    }

    @Test("api_token: the push API needs the bearer token")
    func apiToken() async throws {
        try await withGateway(gatewayTOML(logic: "api_token = \"s3cret\"")) { g in
            let anonymous = try await g.http.post("/goim/push/all?operation=1000", body: "x")
            #expect(anonymous.status == 401 && anonymous.code == -401)
            var wrong = g.http
            wrong.bearerToken = "guess"
            #expect(try await wrong.get("/goim/online/total").code == -401)
            var right = g.http
            right.bearerToken = "s3cret"
            #expect(try await right.post("/goim/push/all?operation=1000", body: "x").code == 0)
        }
    }

    @Test("allowed_origins: a browser from another origin cannot open a WebSocket; allowed and non-browser clients can")
    func origins() async throws {
        let toml = gatewayTOML(extra: "").replacingOccurrences(
            of: "[transport.websocket]\n",
            with: "[transport.websocket]\nallowed_origins = [\"https://app.example\"]\n"
        )
        try await withGateway(toml) { g in
            await #expect(throws: (any Error).self) {
                _ = try await GoimWebSocketClient.connect(host: "127.0.0.1", port: g.wsPort, origin: "https://evil.example")
            }
            let allowed = try await GoimWebSocketClient.connect(host: "127.0.0.1", port: g.wsPort, origin: "https://APP.example")
            #expect(try await allowed.authenticate(AuthToken(mid: 1, accepts: [1000])))
            let native = try await GoimWebSocketClient.connect(host: "127.0.0.1", port: g.wsPort)
            #expect(try await native.authenticate(AuthToken(mid: 2, accepts: [1000])))
            await allowed.close()
            await native.close()
        }
    }
}
