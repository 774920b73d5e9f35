import Foundation
public import HeraldCore
import HeraldProtocol
import HeraldTLS
public import Hummingbird
public import Logging
public import NIOCore
import NIOFoundationCompat

/// goim's HTTP push and query API (`/goim/...`), served by logic.
///
/// Responses use goim's envelope `{"code":0,"message":"","data":...}` with HTTP 200; bad
/// parameters give code -400 and a message naming the parameter; queue or router failures give -500.
/// A message body over the configured size is refused with HTTP 413 (code -400), never truncated.
public enum LogicHTTPAPI {
    /// Builds the API application; `onBound` receives the bound address (useful with port 0).
    public static func makeApplication(
        logic: Logic,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        security: (any ChannelSecurity)? = nil,
        metricsText: (@Sendable () -> [UInt8])? = nil,
        serverID: String = "",
        role: String = "serve",
        cluster: ConsoleCluster? = nil,
        onBound: @escaping @Sendable (SocketAddress?) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        let c = logic.configuration
        let origins = OriginCheckMiddleware<BasicRequestContext>(
            allowed: c.allowedOrigins,
            checkHost: c.apiToken == nil && LoopbackAddress.contains(host: c.httpHost),
            allowedHosts: c.allowedHosts
        )
        router.add(middleware: origins)
        addRoutes(to: router, logic: logic)
        if logic.configuration.demo { addDemo(to: router) }
        if let metricsText {
            addMetrics(to: router, text: metricsText, token: logic.configuration.metricsToken ?? logic.configuration.apiToken)
        }
        if let adminToken = logic.configuration.adminToken {
            AdminConsole.add(
                to: router, logic: logic, token: adminToken, metricsText: metricsText, serverID: serverID, role: role, cluster: cluster)
        }
        let pushes = PushEndpoints(logic: logic, origins: origins)
        return Application(
            router: router,
            server: .http1(security: security, configuration: .init(additionalChannelHandlers: [PushRequestHandler(endpoints: pushes)])),
            configuration: .init(
                address: .hostname(logic.configuration.httpHost, port: logic.configuration.httpPort),
                serverName: "herald"
            ),
            onServerRunning: { channel in await onBound(channel.localAddress) },
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger
        )
    }

    static func addRoutes(to router: Router<BasicRequestContext>, logic: Logic) {
        let goim = router.group("goim")
        if let token = logic.configuration.apiToken { goim.add(middleware: APITokenMiddleware(token: token)) }
        // The push endpoints (`POST /goim/push/*`) are answered before the router, in each
        // connection's pipeline: see PushRequestHandler.
        goim.get("history") { request, _ in
            await respond {
                let q = QueryParameters(parameters: request.uri.queryParameters)
                let stream: String
                if let mid = try q.string("mid", required: false), !mid.isEmpty {
                    guard let value = Int64(mid), value != 0 else { throw APIError.badRequest("mid: \"\(mid)\" is not a user id") }
                    stream = HistoryStream.user(value)
                } else if let room = try q.string("room", required: false), !room.isEmpty {
                    let type = try q.string("type", required: true)!
                    stream = HistoryStream.room(Logic.roomID(type: type, room: room))
                } else if try q.string("broadcast", required: false) == "1" {
                    stream = HistoryStream.broadcast
                } else {
                    throw APIError.badRequest("mid: required parameter is missing (or type and room, or broadcast=1)")
                }
                let sinceText = try q.string("since", required: false) ?? "0"
                guard let since = UInt64(sinceText.isEmpty ? "0" : sinceText), since <= UInt64(Int64.max) else {
                    throw APIError.badRequest("since: \"\(sinceText)\" is not an offset")
                }
                let epoch = try q.string("epoch", required: false) ?? ""
                let limitText = try q.string("limit", required: false) ?? "100"
                guard let limit = Int(limitText.isEmpty ? "100" : limitText), (1...1000).contains(limit) else {
                    throw APIError.badRequest("limit: \"\(limitText)\" is not between 1 and 1000")
                }
                let page = try await logic.history(stream, after: since, limit: limit)
                return HistoryAnswer(stream: stream, page: page, since: since, epoch: epoch)
            }
        }
        goim.get("online/top") { request, _ in
            await respond {
                let q = QueryParameters(parameters: request.uri.queryParameters)
                let type = try q.string("type", required: true)!
                let limitText = try q.string("limit", required: true)!
                guard let limit = Int(limitText), limit > 0 else {
                    throw APIError.badRequest("limit: \"\(limitText)\" is not a positive integer")
                }
                return logic.onlineTop(type: type, limit: limit).map { RoomCount(room_id: $0.room, count: $0.count) }
            }
        }
        goim.get("online/room") { request, _ in
            await respond {
                let q = QueryParameters(parameters: request.uri.queryParameters)
                let type = try q.string("type", required: true)!
                let rooms = q.list("rooms")
                guard !rooms.isEmpty else { throw APIError.badRequest("rooms: required parameter is missing") }
                return logic.onlineRooms(type: type, rooms: rooms)
            }
        }
        goim.get("online/users") { request, _ in
            await respond {
                let q = QueryParameters(parameters: request.uri.queryParameters)
                let mids = try q.int64List("mids")
                guard !mids.isEmpty else { throw APIError.badRequest("mids: required parameter is missing") }
                return try await logic.onlineUsers(mids: mids)
            }
        }
        goim.get("online/total") { _, _ in
            await respond {
                let nodes = await logic.cometNodes()
                return OnlineTotal(
                    ip_count: nodes.reduce(0) { $0 + $1.ipCount },
                    conn_count: nodes.reduce(0) { $0 + $1.connectionCount }
                )
            }
        }
        goim.get("nodes/weighted") { request, _ in
            await respond {
                let q = QueryParameters(parameters: request.uri.queryParameters)
                let platform = try q.string("platform", required: false) ?? ""
                return await NodesWeighted.make(logic: logic, platform: platform)
            }
        }
        goim.get("nodes/instances") { _, _ in
            await respond { await logic.cometNodes().map(NodeInstance.init) }
        }
    }

    /// `GET /metrics`: the Prometheus text exposition of every swift-metrics value, behind `token`
    /// when one is configured.
    public static func addMetrics(to router: Router<BasicRequestContext>, text: @escaping @Sendable () -> [UInt8], token: String?) {
        let metrics = router.group("metrics")
        if let token { metrics.add(middleware: APITokenMiddleware(token: token)) }
        metrics.get { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: text()))
            )
        }
    }

    /// The browser demo: `/demo` and `/demo/herald.js`.
    static func addDemo(to router: Router<BasicRequestContext>) {
        router.get("demo") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: DemoPage.html)))
        }
        router.get("demo/herald.js") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/javascript; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: HeraldScript.source))
            )
        }
    }

    private static func respond<T: Encodable & Sendable>(_ body: () async throws -> T) async -> Response {
        do {
            let data = try await body()
            return APIAnswer.envelope(status: .ok, Envelope(code: 0, message: "", data: data)).response
        } catch {
            return APIAnswer.failure(error).response
        }
    }
}
