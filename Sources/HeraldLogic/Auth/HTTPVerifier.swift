import AsyncHTTPClient
import Foundation
public import HeraldCore
public import HeraldProtocol
import Metrics
import NIOCore
import NIOHTTP1

/// `http`: the op-7 body is POSTed as-is to a backend (`http_url`), which decides. HTTP 200 with
/// `{"mid": 123, "room_id": "live://1", "platform": "web", "accepts": [1000], "key": "..."}`
/// admits the connection with that identity (`mid` required, the rest optional). What the client
/// may change afterwards comes from the answer too: `rooms` (patterns op 12 may enter; default the
/// `room_id` only) and `operations` (what op 14 may add; default `accepts`). Any other status
/// refuses it. A backend that cannot be reached within `http_timeout` refuses it too (fail closed),
/// and every failure is counted in `herald_auth_backend_errors_total{reason=...}`.
public final class HTTPVerifier: TokenVerifier {
    public var name: String { "http" }
    private let url: String
    private let timeout: TimeAmount
    private let authorization: String?
    private let client: HTTPClient

    /// What the backend answers for an accepted token.
    struct Answer: Decodable {
        var mid: Int64
        var key: String?
        var room_id: String?
        var platform: String?
        var accepts: [Int32]?
        var rooms: [String]?
        var operations: [Int32]?
    }

    public init(configuration: AuthConfiguration) throws(ConfigError) {
        guard let url = configuration.httpURL, let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""),
            parsed.host != nil
        else {
            throw ConfigError(key: "logic.auth.http_url", message: "http mode needs an http:// or https:// URL of the auth backend")
        }
        self.url = url
        self.timeout = .nanoseconds(configuration.httpTimeout.nanoseconds)
        self.authorization = configuration.httpAuthorization
        self.client = .shared
    }

    public func verifyNow(_ body: [UInt8]) throws -> VerifiedClient? { nil }

    public func verify(_ body: [UInt8]) async throws -> VerifiedClient {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: body.first == UInt8(ascii: "{") ? "application/json" : "text/plain")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        let answerBody: ByteBuffer
        do {
            response = try await client.execute(request, timeout: timeout)
            answerBody = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            Self.failed("unreachable")
            throw AuthError("http: the auth backend did not answer: \(error)")
        }
        guard response.status == .ok else {
            Self.failed(response.status.code >= 500 ? "backend_error" : "refused")
            throw AuthError("http: the auth backend refused the token (HTTP \(response.status.code))")
        }
        let answer: Answer
        do {
            answer = try JSONDecoder().decode(Answer.self, from: Data(buffer: answerBody))
        } catch {
            Self.failed("bad_answer")
            throw AuthError("http: the auth backend's answer is not the expected JSON (a positive \"mid\" is required)")
        }
        guard answer.mid > 0 else {
            Self.failed("bad_answer")
            throw AuthError("http: the auth backend's answer names no user (mid \(answer.mid))")
        }
        let identity = AuthToken(
            mid: answer.mid,
            key: answer.key ?? "",
            roomID: answer.room_id ?? "",
            platform: answer.platform ?? "",
            accepts: answer.accepts ?? []
        )
        return VerifiedClient(identity: identity, grants: ClientGrants(identity, rooms: answer.rooms, operations: answer.operations))
    }

    private static func failed(_ reason: String) {
        Counter(label: "herald_auth_backend_errors_total", dimensions: [("reason", reason)]).increment()
    }
}
