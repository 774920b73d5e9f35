public import HeraldCore
import HeraldPluginSupport
import HeraldProtocol
public import NIOCore
import NIOPosix

/// The `tcp` transport plugin: goim packets back to back on a TCP stream (goim's port 3101).
///
/// A batched push is written as its inner packets, so a client sees ordinary packets.
/// Config (`[transport.tcp]`): `listen` (default `["0.0.0.0:3101"]`), `tls` (default false) and the
/// socket settings of ``ListenerOptions``.
public final class TCPTransport: Transport {
    public let name: String
    private let options: ListenerOptions
    private let security: (any ChannelSecurity)?
    private let context: TransportContext
    private let listeners = ListenerSet()

    public init(context: TransportContext) throws {
        self.context = context
        self.name = context.name
        self.options = try ListenerOptions(config: context.config, defaultListen: "0.0.0.0:3101")
        self.security = try context.listenerSecurity()
    }

    public static func register(in registry: inout PluginRegistry) {
        registry.registerTransport("tcp") { try TCPTransport(context: $0) }
    }

    public func start(acceptor: any SessionAcceptor) async throws -> [SocketAddress] {
        let limits = acceptor.limits
        let name = self.name
        let security = self.security
        let bootstrap = options.bootstrap(group: context.eventLoopGroup, limits: limits)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try security?.secure(channel)
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(PacketDecoder(maxBodySize: limits.maxBodySize)),
                        SessionChannelHandler(acceptor: acceptor, framing: StreamPacketFraming.shared, transportName: name)
                    )
                }
            }
        return try await options.bind(bootstrap, into: listeners, context: context)
    }

    public func stopAccepting() async { await listeners.closeAll() }

    public func shutdown() async { await listeners.closeAll() }
}
