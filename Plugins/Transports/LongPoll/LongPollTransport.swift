import Foundation
public import HeraldCore
import HeraldHTTPSupport
import HeraldProtocol
import Hummingbird
import Logging
import NIOConcurrencyHelpers
public import NIOCore

/// The `longpoll` transport plugin: goim over HTTP/1.1 requests, for browsers behind proxies that
/// break WebSockets.
///
/// ```
/// POST {path}/auth                 body: the op-7 JSON token      → {"session": "<id>"}
/// GET  {path}/poll?session=&ack=N  returns every message after N (or waits up to poll_timeout)
/// POST {path}/op?session=&op=12    body: the op's body            → the replies (heartbeat, room, sub…)
/// POST {path}/close?session=
/// ```
///
/// Messages carry increasing `seq` numbers; a poll acknowledges everything up to `ack`, so a lost
/// response is simply answered again. Each poll counts as a heartbeat. Config (`[transport.longpoll]`):
/// `listen` (`"0.0.0.0:3104"`), `path` (`"/sub"`), `poll_timeout` (`"25s"`), `auth_timeout` (`"5s"`),
/// `cors_origin` (`"*"`; `""` for none).
public final class LongPollTransport: Transport {
    public let name: String
    private let context: TransportContext
    private let server: HTTPTransportServer
    private let path: String
    private let pollTimeout: Duration
    private let authTimeout: Duration
    /// Open sessions by id. When the gateway stops accepting, new ones are refused (503) while open
    /// ones keep polling until they have fetched their last messages and op 6.
    private let sessions = HTTPSessionTable<LongPollLink>()

    public init(context: TransportContext) throws {
        self.context = context
        self.name = context.name
        server = try HTTPTransportServer(context: context, defaultListen: "0.0.0.0:3104")
        path = try context.config.string("path", default: "/sub")
        pollTimeout = try context.config.duration("poll_timeout", default: .seconds(25))
        authTimeout = try context.config.duration("auth_timeout", default: .seconds(5))
    }

    public static func register(in registry: inout PluginRegistry) {
        registry.registerTransport("longpoll") { try LongPollTransport(context: $0) }
    }

    /// Sessions currently open.
    public var sessionCount: Int { sessions.count }

    public func start(acceptor: any SessionAcceptor) async throws -> [SocketAddress] {
        try await server.start(path: path, acceptor: acceptor) { group in addRoutes(to: group, acceptor: acceptor) }
    }

    /// Refuses new sessions; open sessions keep polling for the drain.
    public func stopAccepting() async {
        sessions.stopAccepting()
    }

    /// Closes what the drain left open, gives closed sessions up to `closeLinger` to fetch what was
    /// queued for them (op 6 last), then stops the listener.
    public func shutdown() async {
        await stopAccepting()
        await sessions.closeAll()
        await sessions.waitUntilEmpty(before: ContinuousClock.now + closeLinger)
        await server.stop()
    }

    /// How long a closed session stays pollable, so a client between two polls comes back for the
    /// messages and the op 6 queued before the close (one waiting in a poll gets them at once).
    private let closeLinger: Duration = .seconds(5)

    /// Forgets a closed session: once a poll returned its last messages and the close, or after
    /// `closeLinger`.
    private func forget(_ id: String) {
        sessions.remove(id: id)
    }

    // MARK: Routes

    private func addRoutes(to group: RouterGroup<TransportRequestContext>, acceptor: any SessionAcceptor) {
        let maxBody = acceptor.limits.maxBodySize

        group.post("auth") { request, context in
            guard self.sessions.isAccepting else {
                return PacketJSON.response(.serviceUnavailable, ["code": -503, "message": "shutting down: connect to another comet"])
            }
            let token = try await request.body.collect(upTo: maxBody)
            return try await self.authenticate(token: token, peer: context.remoteAddress, acceptor: acceptor)
        }
        group.get("poll") { request, _ in
            let q = request.uri.queryParameters
            guard let link = self.link(q.get("session")) else {
                return PacketJSON.response(.notFound, ["code": -404, "message": "session: unknown or closed"])
            }
            guard let ack = UInt64(q.get("ack") ?? "0") else {
                return PacketJSON.response(.badRequest, ["code": -400, "message": "ack: not a number"])
            }
            return try await self.poll(link, ack: ack)
        }
        group.post("op") { request, _ in
            let q = request.uri.queryParameters
            guard let link = self.link(q.get("session")) else {
                return PacketJSON.response(.notFound, ["code": -404, "message": "session: unknown or closed"])
            }
            guard let opText = q.get("op"), let op = Int32(opText), op != Operation.auth.rawValue else {
                return PacketJSON.response(.badRequest, ["code": -400, "message": "op: required, an integer other than 7"])
            }
            let body = try await request.body.collect(upTo: maxBody)
            let replies = try await link.eventLoop.submit {
                link.submit(Packet(version: 1, operation: Operation(op), sequence: 0, body: body))
            }.get()
            return PacketJSON.response(.ok, ["code": 0, "data": ["replies": replies.map { PacketJSON.object($0) }]])
        }
        group.post("close") { request, _ in
            if let link = self.link(request.uri.queryParameters.get("session")) {
                try await link.eventLoop.submit { link.close(.clientClosed) }.get()
            }
            return PacketJSON.response(.ok, ["code": 0])
        }
    }

    private func link(_ id: String?) -> LongPollLink? {
        guard let id else { return nil }
        return sessions[id]
    }

    private func authenticate(token: ByteBuffer, peer: SocketAddress?, acceptor: any SessionAcceptor) async throws -> Response {
        let loop = context.eventLoopGroup.next()
        let id = UUID().uuidString.lowercased()
        let link = LongPollLink(
            id: id, eventLoop: loop, transportName: name, remoteAddress: peer,
            maxQueuedBytes: acceptor.limits.outboundHighWater,
            onClose: { [weak self] id in
                // Still pollable for a while: the client fetches what was queued, op 6 last.
                guard let self else { return }
                let linger = TimeAmount.nanoseconds(self.closeLinger.nanoseconds)
                loop.scheduleTask(in: linger) { self.forget(id) }
            }
        )
        sessions.add(link, id: id)
        let auth = Packet(version: 1, operation: .auth, sequence: 0, body: token)
        var (accepted, replyBody) = try await loop.submit { () -> (Bool, ByteBuffer?) in
            link.session = acceptor.open(link: link)
            let reply = link.submit(auth).first { $0.operation == .authReply }
            return (reply != nil, reply?.body)
        }.get()
        // A logic in another process answers later (and a recovering client's reply waits for its
        // history read): the op-8 reply then arrives as a message.
        let deadline = ContinuousClock.now + authTimeout
        while !accepted, ContinuousClock.now < deadline {
            let state: (Bool, Bool, ByteBuffer?) = try await loop.submit {
                if let i = link.pendingAuthReplyIndex() {
                    let body = link.peekMessages()[i].packet.body
                    link.dropMessage(at: i)
                    return (true, false, body)
                }
                return (false, link.isClosed, nil)
            }.get()
            (accepted, replyBody) = (state.0, state.2)
            if state.1 { break }
            if !accepted { try await Task.sleep(for: .milliseconds(5)) }
        }
        guard accepted else {
            let reason = try await loop.submit { () -> String in
                let r = link.closeReason?.description ?? "auth timed out"
                link.close(.authFailed(r))
                return r
            }.get()
            return PacketJSON.response(.forbidden, ["code": -403, "message": "auth failed: \(reason)"])
        }
        var data: [String: Any] = ["session": id]
        // The op-8 body of a client that opted into recovery: the outcome, as JSON.
        if let replyBody, replyBody.readableBytes > 0,
            let reply = try? JSONSerialization.jsonObject(with: Data(replyBody.readableBytesView)) as? [String: Any]
        {
            data["reply"] = reply
        }
        return PacketJSON.response(.ok, ["code": 0, "data": data])
    }

    private func poll(_ link: LongPollLink, ack: UInt64) async throws -> Response {
        let timeout = TimeAmount.nanoseconds(pollTimeout.nanoseconds)
        let messages: [LongPollLink.Message] = try await link.eventLoop.flatSubmit {
            // A poll is the client's sign of life: it refreshes the heartbeat deadline.
            _ = link.submit(Packet(version: 1, operation: .heartbeat, sequence: 0))
            if let ready = link.take(after: ack) { return link.eventLoop.makeSucceededFuture(ready) }
            let wait = link.waitForMessages()
            let timer = link.eventLoop.scheduleTask(in: timeout) { link.wakeForTimeout() }
            return wait.map {
                timer.cancel()
                return link.take(after: ack) ?? []
            }
        }.get()
        let closed = try await link.eventLoop.submit { link.closeReason?.label }.get()
        if closed != nil { forget(link.id) }  // the client now has everything, op 6 last, and the close
        var data: [String: Any] = ["messages": messages.map { PacketJSON.object($0.packet, seq: $0.seq) }]
        if let closed { data["closed"] = closed }
        return PacketJSON.response(.ok, ["code": 0, "data": data])
    }
}

extension LongPollLink {
    func pendingAuthReplyIndex() -> Int? { peekMessages().firstIndex { $0.packet.operation == .authReply } }
}
