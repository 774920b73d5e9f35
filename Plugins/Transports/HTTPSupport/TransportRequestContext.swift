public import Hummingbird
public import NIOCore

/// The request context of an HTTP-based transport's routes: Hummingbird's basics plus the peer's
/// address, so a session opened by a request is admitted under its IP (`max_connections_per_ip`).
public struct TransportRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
