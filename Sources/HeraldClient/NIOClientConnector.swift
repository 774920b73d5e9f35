import HeraldProtocol
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import NIOWebSocket

/// Connections over SwiftNIO: TCP (goim's packets back to back) or WebSocket (one packet per
/// binary message), each optionally in TLS.
struct NIOClientConnector: ClientConnector {
    var group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    /// The TLS settings for `tls` endpoints (by default the system's trust roots).
    var tls: TLSConfiguration = .makeClientConfiguration()

    func open(_ endpoint: HeraldEndpoint, configuration: HeraldClient.Configuration) async throws -> any ClientConnection {
        let (stream, continuation) = AsyncThrowingStream<Packet, any Error>.makeStream()
        let forwarder = PacketForwarder(continuation: continuation, maxBodySize: configuration.maxBodySize)
        let sslContext = endpoint.tls ? try NIOSSLContext(configuration: tls) : nil
        let isIP = endpoint.host.contains(":") || endpoint.host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        let serverName = isIP ? nil : endpoint.host
        let maxBodySize = configuration.maxBodySize
        let upgraded = group.any().makePromise(of: Void.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(configuration.connectTimeout.nanoseconds))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        try sync.addHandler(try NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    switch endpoint.transport {
                    case .tcp:
                        if sslContext != nil {
                            // Open once the TLS handshake is through: a failed one is an unreachable server, not a refusal.
                            try sync.addHandler(TLSHandshakeWait(done: upgraded))
                        } else {
                            upgraded.succeed()
                        }
                        try sync.addHandler(ByteToMessageHandler(PacketDecoder(maxBodySize: maxBodySize)))
                        try sync.addHandler(forwarder)
                    case .websocket:
                        let request = UpgradeRequest(endpoint: endpoint, failure: upgraded)
                        let upgrader = NIOWebSocketClientUpgrader(
                            maxFrameSize: maxBodySize + Packet.headerLength * 2,
                            automaticErrorHandling: true,
                            upgradePipelineHandler: { channel, _ in
                                channel.eventLoop.makeCompletedFuture {
                                    let sync = channel.pipeline.syncOperations
                                    sync.removeHandler(context: try sync.context(handler: request), promise: nil)
                                    try sync.addHandler(WebSocketPackets(maxMessageSize: maxBodySize + Packet.headerLength * 2))
                                    try sync.addHandler(forwarder)
                                    upgraded.succeed()
                                }
                            }
                        )
                        try sync.addHTTPClientHandlers(withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                        try sync.addHandler(request)
                    }
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            upgraded.fail(error)
            throw error
        }
        // The handshake (TLS, the WebSocket upgrade) has the rest of the connect timeout.
        let timeout = channel.eventLoop.scheduleTask(in: .nanoseconds(configuration.connectTimeout.nanoseconds)) {
            upgraded.fail(HeraldClientError.timedOut)
        }
        do {
            try await upgraded.futureResult.get()
            timeout.cancel()
        } catch {
            timeout.cancel()
            try? await channel.close()
            throw error
        }
        return NIOClientConnection(channel: channel, packets: stream, webSocket: endpoint.transport == .websocket)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}

final class NIOClientConnection: ClientConnection {
    let channel: any Channel
    let packets: AsyncThrowingStream<Packet, any Error>
    let webSocket: Bool

    init(channel: any Channel, packets: AsyncThrowingStream<Packet, any Error>, webSocket: Bool) {
        self.channel = channel
        self.packets = packets
        self.webSocket = webSocket
    }

    func send(_ packet: Packet) async throws {
        var buffer = channel.allocator.buffer(capacity: packet.packetLength)
        buffer.writePacket(packet)
        if webSocket {
            try await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: buffer))
        } else {
            try await channel.writeAndFlush(buffer)
        }
    }

    func close() async {
        try? await channel.close()
    }
}

/// Hands each packet to the connection's stream, envelopes unwrapped; ends the stream when the
/// channel closes. A malformed envelope closes the connection.
private final class PacketForwarder: ChannelInboundHandler, Sendable {
    typealias InboundIn = Packet

    let continuation: AsyncThrowingStream<Packet, any Error>.Continuation
    let maxBodySize: Int

    init(continuation: AsyncThrowingStream<Packet, any Error>.Continuation, maxBodySize: Int) {
        self.continuation = continuation
        self.maxBodySize = maxBodySize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            for packet in try unwrapInboundIn(data).unwrapped(maxBodySize: maxBodySize) {
                continuation.yield(packet)
            }
        } catch {
            continuation.finish(throwing: error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        continuation.finish()
    }
}

/// Succeeds `done` when the TLS handshake completes; fails it if the connection ends first.
private final class TLSHandshakeWait: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let done: EventLoopPromise<Void>

    init(done: EventLoopPromise<Void>) {
        self.done = done
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { done.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(HeraldClientError.connectionLost)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.fireErrorCaught(error)
    }
}

/// Sends the WebSocket upgrade request once connected; fails the promise if the server answers
/// plain HTTP or goes away first.
private final class UpgradeRequest: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let endpoint: HeraldEndpoint
    let failure: EventLoopPromise<Void>

    init(endpoint: HeraldEndpoint, failure: EventLoopPromise<Void>) {
        self.endpoint = endpoint
        self.failure = failure
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        let defaultPort = endpoint.tls ? 443 : 80
        headers.add(name: "Host", value: endpoint.port == defaultPort ? endpoint.host : "\(endpoint.host):\(endpoint.port)")
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            failure.fail(WebSocketUpgradeRefused(status: head.status.code))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failure.fail(HeraldClientError.connectionLost)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failure.fail(error)
        context.close(promise: nil)
    }
}

/// The server answered the WebSocket upgrade with this HTTP status instead of switching protocols.
public struct WebSocketUpgradeRefused: Error, Sendable, Hashable {
    public var status: UInt
}

/// WebSocket messages to packets: one packet per message (fragments joined, within
/// `maxMessageSize`); pings answered; a close frame closes the connection.
private final class WebSocketPackets: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = Packet
    typealias OutboundOut = WebSocketFrame

    let maxMessageSize: Int
    private var partial: ByteBuffer?

    init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .text, .continuation:
            var payload = frame.unmaskedData
            if frame.opcode == .continuation {
                guard var head = partial else { return close(context) }
                head.writeBuffer(&payload)
                payload = head
            }
            guard payload.readableBytes <= maxMessageSize else { return close(context) }
            guard frame.fin else {
                partial = payload
                return
            }
            partial = nil
            do {
                context.fireChannelRead(wrapInboundOut(try payload.readWholePacket(maxBodySize: maxMessageSize)))
            } catch {
                close(context)
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            close(context)
        default:
            break
        }
    }

    private func close(_ context: ChannelHandlerContext) {
        context.close(promise: nil)
    }
}
