public import HeraldProtocol
public import NIOCore
import NIOHTTP1
public import NIOPosix
public import NIOWebSocket

/// A goim WebSocket client: one packet per binary message, pushes in op-9 envelopes.
public final class GoimWebSocketClient: GoimClient, ChannelGoimClient {
    public let inbox: PacketInbox
    public var envelopes: Int { handler.envelopes.load(ordering: .relaxed) }
    let channel: any Channel
    private let handler: InboxHandler

    private init(channel: any Channel, inbox: PacketInbox, handler: InboxHandler) {
        self.channel = channel
        self.inbox = inbox
        self.handler = handler
    }

    /// `secure` adds a client TLS handler first in the pipeline (wss tests).
    public static func connect(
        host: String,
        port: Int,
        path: String = "/sub",
        origin: String? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        receiveBuffer: Int = 0,
        secure: (@Sendable (any Channel) throws -> Void)? = nil
    ) async throws -> GoimWebSocketClient {
        let inbox = PacketInbox()
        let inboxHandler = InboxHandler(inbox: inbox)
        let upgraded = group.any().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer > 0 ? receiveBuffer : 131072))
            .channelInitializer { channel in
                let request = UpgradeRequestHandler(host: host, path: path, origin: origin, failure: upgraded)
                let upgrader = NIOWebSocketClientUpgrader(
                    maxFrameSize: 1 << 24,
                    automaticErrorHandling: false,
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            let sync = channel.pipeline.syncOperations
                            sync.removeHandler(context: try sync.context(handler: request), promise: nil)
                            try channel.pipeline.syncOperations.addHandlers(
                                WebSocketPacketUnwrapper(),
                                inboxHandler
                            )
                            upgraded.succeed()
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    try secure?(channel)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                    try channel.pipeline.syncOperations.addHandler(request)
                }
            }
            .connect(host: host, port: port).get()
        do {
            try await upgraded.futureResult.get()
        } catch {
            try? await channel.close()
            throw error
        }
        return GoimWebSocketClient(channel: channel, inbox: inbox, handler: inboxHandler)
    }

    public func send(_ packet: Packet) async throws {
        var buffer = channel.allocator.buffer(capacity: packet.packetLength)
        buffer.writePacket(packet)
        try await sendRaw(buffer)
    }

    public func sendRaw(_ bytes: ByteBuffer) async throws {
        try await sendFrame(WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: bytes))
    }

    /// Sends any frame (ping, close, text).
    public func sendFrame(_ frame: WebSocketFrame) async throws {
        try await channel.writeAndFlush(frame)
    }
}

/// Sends the upgrade request once connected; fails the promise if the server answers plain HTTP.
private final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let host: String
    let path: String
    let origin: String?
    let failure: EventLoopPromise<Void>

    init(host: String, path: String, origin: String?, failure: EventLoopPromise<Void>) {
        self.host = host
        self.path = path
        self.origin = origin
        self.failure = failure
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Content-Length", value: "0")
        if let origin { headers.add(name: "Origin", value: origin) }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            failure.fail(WebSocketUpgradeRefused(status: head.status.code))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failure.fail(WebSocketUpgradeRefused(status: 0))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failure.fail(error)
        context.close(promise: nil)
    }
}

/// The server refused the WebSocket upgrade.
public struct WebSocketUpgradeRefused: Error, Sendable {
    public var status: UInt
}

/// Turns binary WebSocket messages into packets for the inbox.
private final class WebSocketPacketUnwrapper: ChannelInboundHandler, Sendable {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = Packet

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .text:
            var payload = frame.unmaskedData
            if let packet = try? payload.readWholePacket(maxBodySize: 1 << 24) {
                context.fireChannelRead(wrapInboundOut(packet))
            } else {
                context.close(promise: nil)
            }
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }
}
