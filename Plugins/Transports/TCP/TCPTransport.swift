public import HeraldCore
import HeraldProtocol
public import Logging
public import NIOCore
import NIOPosix

/// The `tcp` transport plugin: goim packets back to back on a TCP stream (goim's port 3101).
///
/// A batched push is written as its inner packets, so a client sees ordinary packets.
/// Config (`[transport.tcp]`): `listen` (default `["0.0.0.0:3101"]`), `backlog` (1024),
/// `nodelay` (true), `sndbuf`/`rcvbuf` (0 = the OS default), `keepalive` (false).
public final class TCPTransport: Transport {
    public let name: String
    private let addresses: [ListenAddress]
    private let backlog: Int
    private let noDelay: Bool
    private let sendBuffer: Int
    private let receiveBuffer: Int
    private let keepAlive: Bool
    private let context: TransportContext
    private let listeners = ListenerSet()

    public init(context: TransportContext) throws {
        self.context = context
        self.name = context.name
        self.addresses = try ListenAddress.list(from: context.config, default: ["0.0.0.0:3101"])
        self.backlog = try context.config.int("backlog", default: 1024, in: 1...65535)
        self.noDelay = try context.config.bool("nodelay", default: true)
        self.sendBuffer = try context.config.int("sndbuf", default: 0, in: 0...(64 << 20))
        self.receiveBuffer = try context.config.int("rcvbuf", default: 0, in: 0...(64 << 20))
        self.keepAlive = try context.config.bool("keepalive", default: false)
    }

    public static func register(in registry: inout PluginRegistry) {
        registry.registerTransport("tcp") { try TCPTransport(context: $0) }
    }

    public func start(acceptor: any SessionAcceptor) async throws -> [SocketAddress] {
        let limits = acceptor.limits
        let name = self.name
        var bootstrap = ServerBootstrap(group: context.eventLoopGroup)
            .serverChannelOption(.backlog, value: Int32(backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: noDelay ? 1 : 0)
            .childChannelOption(.socketOption(.so_keepalive), value: keepAlive ? 1 : 0)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: limits.outboundLowWater, high: limits.outboundHighWater))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(PacketDecoder(maxBodySize: limits.maxBodySize)),
                        SessionChannelHandler(acceptor: acceptor, framing: StreamPacketFraming.shared, transportName: name)
                    )
                }
            }
        if sendBuffer > 0 { bootstrap = bootstrap.childChannelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(sendBuffer)) }
        if receiveBuffer > 0 { bootstrap = bootstrap.childChannelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer)) }
        for address in addresses {
            let channel = try await bootstrap.bind(host: address.host, port: address.port).get()
            listeners.add(channel)
            context.logger.info("listening", metadata: ["transport": "\(name)", "address": "\(channel.localAddress!)"])
        }
        return listeners.addresses
    }

    public func stopAccepting() async { await listeners.closeAll() }

    public func shutdown() async { await listeners.closeAll() }
}
