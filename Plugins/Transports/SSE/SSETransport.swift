import Foundation
public import HeraldCore
import HeraldHTTPSupport
import HeraldProtocol
import Hummingbird
import Logging
import NIOConcurrencyHelpers
public import NIOCore

/// The `sse` transport plugin: pushes as Server-Sent Events, client ops by POST. The worked example
/// of docs/plugins.md — written only against the public transport API.
///
/// ```
/// GET  {path}/events?token=<op-7 JSON, URL-encoded>   text/event-stream:
///        event: session  data: {"session":"<id>"}     then   event: message  data: {"op":..,"body":..}
/// POST {path}/op?session=<id>&op=<op>                  body: the op's body → {"replies":[...]}
/// ```
///
/// While the stream is open the transport writes a comment every `keepalive` and counts it as the
/// client's heartbeat, so a client only needs to keep the stream open. Config (`[transport.sse]`):
/// `listen` (`"0.0.0.0:3105"`), `path` (`"/sse"`), `keepalive` (`"15s"`), `cors_origin` (`"*"`).
public final class SSETransport: Transport {
    public let name: String
    private let context: TransportContext
    private let server: HTTPTransportServer
    private let path: String
    private let keepAlive: Duration
    /// Open streams by id. When the gateway stops accepting, new ones are refused (503), open ones
    /// stay until the comet has sent each its last messages and op 6.
    private let sessions = HTTPSessionTable<SSELink>()

    public init(context: TransportContext) throws {
        self.context = context
        self.name = context.name
        server = try HTTPTransportServer(context: context, defaultListen: "0.0.0.0:3105")
        path = try context.config.string("path", default: "/sse")
        keepAlive = try context.config.duration("keepalive", default: .seconds(15))
    }

    public static func register(in registry: inout PluginRegistry) {
        registry.registerTransport("sse") { try SSETransport(context: $0) }
    }

    public func start(acceptor: any SessionAcceptor) async throws -> [SocketAddress] {
        try await server.start(path: path, acceptor: acceptor) { group in
            group.get("events") { request, context in self.events(request, peer: context.remoteAddress, acceptor: acceptor) }
            group.post("op") { request, _ in try await self.op(request, acceptor: acceptor) }
        }
    }

    /// Refuses new streams; open streams stay for the drain (the comet closes each after op 6).
    public func stopAccepting() async {
        sessions.stopAccepting()
    }

    /// Closes what the drain left open and stops the listener.
    public func shutdown() async {
        await stopAccepting()
        await sessions.closeAll()
        await server.stop()
    }

    private func events(_ request: Request, peer: SocketAddress?, acceptor: any SessionAcceptor) -> Response {
        guard sessions.isAccepting else {
            return PacketJSON.response(.serviceUnavailable, ["code": -503, "message": "shutting down: connect to another comet"])
        }
        let token = request.uri.queryParameters.get("token") ?? ""
        let loop = context.eventLoopGroup.next()
        let id = UUID().uuidString.lowercased()
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        let link = SSELink(
            id: id, eventLoop: loop, transportName: name, remoteAddress: peer, maxPendingBytes: acceptor.limits.outboundHighWater,
            emit: { continuation.yield($0) }, finish: { continuation.finish() },
            onClose: { [weak self] id in self?.sessions.remove(id: id) }
        )
        sessions.add(link, id: id)
        let keepAlive = TimeAmount.nanoseconds(self.keepAlive.nanoseconds)
        loop.execute {
            link.sendRaw("event: session\ndata: {\"session\":\"\(id)\"}\n\n")
            link.session = acceptor.open(link: link)
            for reply in link.submit(Packet(version: 1, operation: .auth, sequence: 0, body: ByteBuffer(string: token))) {
                link.send(ByteBuffer(packet: reply))
            }
            loop.scheduleRepeatedTask(initialDelay: keepAlive, delay: keepAlive) { task in
                guard link.closeReason == nil else { return task.cancel() }
                _ = link.submit(Packet(version: 1, operation: .heartbeat, sequence: 0))
                link.sendRaw(": keep-alive\n\n")
            }
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                do {
                    for await chunk in stream {
                        try await writer.write(chunk)
                        let n = chunk.readableBytes
                        loop.execute { link.written(n) }
                    }
                    try await writer.finish(nil)
                } catch {
                    loop.execute { link.close(.clientClosed) }
                    throw error
                }
                loop.execute { link.close(.clientClosed) }
            }
        )
    }

    private func op(_ request: Request, acceptor: any SessionAcceptor) async throws -> Response {
        let q = request.uri.queryParameters
        guard let id = q.get("session"), let link = sessions[id] else {
            return PacketJSON.response(.notFound, ["code": -404, "message": "session: unknown or closed"])
        }
        guard let opText = q.get("op"), let op = Int32(opText), op != Operation.auth.rawValue else {
            return PacketJSON.response(.badRequest, ["code": -400, "message": "op: required, an integer other than 7"])
        }
        let body = try await request.body.collect(upTo: acceptor.limits.maxBodySize)
        let replies = try await link.eventLoop.submit {
            link.submit(Packet(version: 1, operation: Operation(op), sequence: 0, body: body))
        }.get()
        return PacketJSON.response(.ok, ["code": 0, "data": ["replies": replies.map { PacketJSON.object($0) }]])
    }
}

extension ByteBuffer {
    init(packet: Packet) {
        self.init()
        writePacket(packet)
    }
}
