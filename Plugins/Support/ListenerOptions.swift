public import HeraldCore
public import NIOCore
public import NIOPosix

/// Socket settings shared by the TCP-based transports, read from their table:
/// `listen`, `backlog`, `nodelay`, `keepalive`, `sndbuf`, `rcvbuf`, `recv_buffer_initial`.
public struct ListenerOptions: Sendable {
    public var addresses: [ListenAddress]
    public var backlog: Int
    public var noDelay: Bool
    public var keepAlive: Bool
    public var sendBuffer: Int
    public var receiveBuffer: Int
    /// First size of the per-connection receive buffer. NIO keeps a connection's last receive
    /// buffer for reuse, so a small start keeps idle connections cheap; it grows with the traffic.
    public var receiveBufferInitial: Int

    public init(config: ConfigTable, defaultListen: String) throws {
        addresses = try ListenAddress.list(from: config, default: [defaultListen])
        backlog = try config.int("backlog", default: 4096, in: 1...65535)
        noDelay = try config.bool("nodelay", default: true)
        keepAlive = try config.bool("keepalive", default: false)
        sendBuffer = try config.int("sndbuf", default: 0, in: 0...(64 << 20))
        receiveBuffer = try config.int("rcvbuf", default: 0, in: 0...(64 << 20))
        receiveBufferInitial = try config.int("recv_buffer_initial", default: 256, in: 64...65536)
    }

    /// A server bootstrap with these options and the connection limits' write water marks applied.
    public func bootstrap(group: any EventLoopGroup, limits: ConnectionLimits) -> ServerBootstrap {
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Accept many connections per wake-up: connection storms are a gateway's normal day.
            .serverChannelOption(.maxMessagesPerRead, value: 64)
            .childChannelOption(.socketOption(.tcp_nodelay), value: noDelay ? 1 : 0)
            .childChannelOption(.socketOption(.so_keepalive), value: keepAlive ? 1 : 0)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: limits.outboundLowWater, high: limits.outboundHighWater)
            )
            .childChannelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(
                    minimum: 64,
                    initial: receiveBufferInitial,
                    maximum: max(receiveBufferInitial, 65536)
                )
            )
        if sendBuffer > 0 {
            bootstrap = bootstrap.childChannelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(sendBuffer))
        }
        if receiveBuffer > 0 {
            bootstrap = bootstrap.childChannelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        return bootstrap
    }

    /// Binds every address, records the listeners, and logs them.
    public func bind(_ bootstrap: ServerBootstrap, into listeners: ListenerSet, context: TransportContext) async throws -> [SocketAddress] {
        for address in addresses {
            let channel = try await bootstrap.bind(host: address.host, port: address.port).get()
            listeners.add(channel)
            context.logger.info("listening", metadata: ["transport": "\(context.name)", "address": "\(channel.localAddress!)"])
        }
        return listeners.addresses
    }
}
