import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// goim's push endpoints — `POST /goim/push/keys`, `/goim/push/mids`, `/goim/push/room`,
/// `/goim/push/all` — as ``PushRequestHandler`` answers them in each API connection's pipeline:
/// the same checks as every other route (host, origin, `api_token`), then the push rate limit,
/// the parameters, and the push itself.
///
/// A push that can be published without suspending (``Logic/pushKeysNow(operation:keys:message:)``:
/// the all-in-one process with its memory router and queue) is answered on the event loop that read
/// it; any other runs as a task and is answered when it is done.
final class PushEndpoints: Sendable {
    enum Route: Sendable {
        case keys, mids, room, all

        /// The push route a request asks for; nil for every other request (the router answers it).
        /// Empty path segments are skipped as the router does ("/goim//push/keys/" is a push).
        init?(_ request: HTTPRequest) {
            guard request.method == .post, let target = request.path else { return nil }
            let path = target.utf8.prefix { $0 != UInt8(ascii: "?") }
            var segments = path.split(separator: UInt8(ascii: "/"), maxSplits: 3, omittingEmptySubsequences: true).makeIterator()
            guard let goim = segments.next(), goim.elementsEqual("goim".utf8), let push = segments.next(),
                push.elementsEqual("push".utf8), let name = segments.next(), segments.next() == nil
            else { return nil }
            if name.elementsEqual("keys".utf8) {
                self = .keys
            } else if name.elementsEqual("mids".utf8) {
                self = .mids
            } else if name.elementsEqual("room".utf8) {
                self = .room
            } else if name.elementsEqual("all".utf8) {
                self = .all
            } else {
                return nil
            }
        }
    }

    /// What a push answers: now, or once a task has run.
    enum Outcome {
        case now(APIAnswer)
        case later(@Sendable () async -> APIAnswer)
    }

    let logic: Logic
    let maxBody: Int
    let date = HTTPDate()
    private let origins: OriginCheckMiddleware<BasicRequestContext>
    private let token: APITokenMiddleware<BasicRequestContext>?
    private let rateLimiter: PushRateLimiter?

    init(logic: Logic, origins: OriginCheckMiddleware<BasicRequestContext>) {
        let c = logic.configuration
        self.logic = logic
        self.maxBody = c.maxMessageSize
        self.origins = origins
        self.token = c.apiToken.map { APITokenMiddleware(token: $0) }
        self.rateLimiter = c.pushRateLimit > 0 ? PushRateLimiter(rate: c.pushRateLimit, burst: c.pushBurst, logger: logic.logger) : nil
    }

    /// The refusal for a push request before its body is read, in the routes' order: host and
    /// origin, the API token, then the rate limit. Nil when it may go on.
    func admit(_ request: HTTPRequest) -> APIAnswer? {
        if let refusal = origins.check(host: request.authority, origin: request.headerFields[.origin]) { return refusal }
        if let token, let refusal = token.check(authorization: request.headerFields[.authorization]) { return refusal }
        return rateLimiter?.take()
    }

    /// Runs one push whose body was read.
    func run(_ route: Route, _ request: HTTPRequest, body: ByteBuffer) -> Outcome {
        let q = QueryParameters(parameters: URI(request.path ?? "").queryParameters)
        let message = Data(buffer: body, byteTransferStrategy: .copy)
        let logic = self.logic
        do {
            switch route {
            case .keys:
                let op = try q.int32("operation", required: true)!
                let keys = q.list("keys")
                guard !keys.isEmpty else { throw APIError.badRequest("keys: required parameter is missing") }
                if try logic.pushKeysNow(operation: op, keys: keys, message: message) != nil { return .now(.pushAccepted(offline: nil)) }
                return .later { await Self.answer { try await logic.pushKeys(operation: op, keys: keys, message: message) } }
            case .mids:
                let op = try q.int32("operation", required: true)!
                let mids = try q.int64List("mids")
                guard !mids.isEmpty else { throw APIError.badRequest("mids: required parameter is missing") }
                let platform = try q.string("platform", required: false).flatMap { $0.isEmpty ? nil : $0 }
                if let offline = try logic.pushMidsNow(operation: op, mids: mids, platform: platform, message: message) {
                    return .now(.pushAccepted(offline: offline))
                }
                return .later {
                    await Self.answer { try await logic.pushMids(operation: op, mids: mids, platform: platform, message: message) }
                }
            case .room:
                let op = try q.int32("operation", required: true, nonZero: true)!
                let type = try q.string("type", required: true)!
                let room = try q.string("room", required: true)!
                if try logic.pushRoomNow(operation: op, type: type, room: room, message: message) {
                    return .now(.pushAccepted(offline: nil))
                }
                return .later { await Self.answer { try await logic.pushRoom(operation: op, type: type, room: room, message: message) } }
            case .all:
                let op = try q.int32("operation", required: true, nonZero: true)!
                let speed = try q.int32("speed", required: false) ?? 0
                guard speed >= 0 else { throw APIError.badRequest("speed: must not be negative") }
                if try logic.pushAllNow(operation: op, speed: speed, message: message) { return .now(.pushAccepted(offline: nil)) }
                return .later { await Self.answer { try await logic.pushAll(operation: op, speed: speed, message: message) } }
            }
        } catch {
            return .now(.failure(error))
        }
    }

    /// The answer of an asynchronous push: accepted (with the offline users when it returns them),
    /// or the failure.
    private static func answer(_ push: () async throws -> Void) async -> APIAnswer {
        do {
            try await push()
            return .pushAccepted(offline: nil)
        } catch {
            return .failure(error)
        }
    }

    private static func answer(_ push: () async throws -> [Int64]) async -> APIAnswer {
        do {
            return .pushAccepted(offline: try await push())
        } catch {
            return .failure(error)
        }
    }
}
