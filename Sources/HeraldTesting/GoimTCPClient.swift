import Atomics
public import HeraldProtocol
public import NIOCore
public import NIOPosix

/// A goim TCP client: packets back to back on a stream.
public final class GoimTCPClient: GoimClient, ChannelGoimClient {
    public let inbox: PacketInbox
    public var envelopes: Int { 0 }
    let channel: any Channel

    private init(channel: any Channel, inbox: PacketInbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// `secure` adds a client TLS handler first in the pipeline (tests of `tls = true` listeners).
    public static func connect(
        host: String,
        port: Int,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        receiveBuffer: Int = 0,
        secure: (@Sendable (any Channel) throws -> Void)? = nil
    ) async throws -> GoimTCPClient {
        let inbox = PacketInbox()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer > 0 ? receiveBuffer : 131072))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try secure?(channel)
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(PacketDecoder(maxBodySize: 1 << 24)),
                        InboxHandler(inbox: inbox)
                    )
                }
            }
            .connect(host: host, port: port).get()
        return GoimTCPClient(channel: channel, inbox: inbox)
    }

    public func send(_ packet: Packet) async throws {
        var buffer = channel.allocator.buffer(capacity: packet.packetLength)
        buffer.writePacket(packet)
        try await channel.writeAndFlush(buffer)
    }

    public func sendRaw(_ bytes: ByteBuffer) async throws {
        try await channel.writeAndFlush(bytes)
    }
}

/// Puts decoded packets into an inbox, unwrapping op-9 envelopes.
final class InboxHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = Packet

    let inbox: PacketInbox
    let envelopes = ManagedAtomic<Int>(0)

    init(inbox: PacketInbox) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = unwrapInboundIn(data)
        if packet.operation == .raw, let inner = try? PacketBatch.split(packet.body) {
            envelopes.wrappingIncrement(ordering: .relaxed)
            for p in inner { inbox.append(p) }
        } else {
            inbox.append(packet)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.close()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
