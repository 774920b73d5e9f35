public import Logging
public import NIOCore

/// A transport plugin: accepts client connections and hands each to the comet core.
///
/// Implementations listen on their own addresses, decode their wire into ``Packet``s, and give the
/// core a ``ClientLink`` per connection. Authentication, heartbeats, rooms and op filtering live in
/// the core, so a transport only maps its wire to packets. See docs/plugins.md.
public protocol Transport: Sendable {
    /// The plugin name this instance was created from (for logs and metrics).
    var name: String { get }

    /// Binds and starts accepting. Returns the addresses actually bound (port 0 resolved).
    func start(acceptor: any SessionAcceptor) async throws -> [SocketAddress]

    /// Stops accepting new connections; existing ones stay open.
    func stopAccepting() async

    /// Closes every connection and releases the listeners.
    func shutdown() async
}

/// What a transport factory receives.
public struct TransportContext: Sendable {
    /// The name of this transport instance (the config table key).
    public var name: String
    /// The transport's own configuration table (`[transport.<name>]`).
    public var config: ConfigTable
    /// The event loops connections run on.
    public var eventLoopGroup: any EventLoopGroup
    /// Limits every transport applies.
    public var limits: ConnectionLimits
    public var logger: Logger
    /// TLS for listeners configured with `tls = true` (nil when `[tls]` is not configured).
    public var security: (any ChannelSecurity)?

    public init(
        name: String,
        config: ConfigTable,
        eventLoopGroup: any EventLoopGroup,
        limits: ConnectionLimits,
        logger: Logger,
        security: (any ChannelSecurity)? = nil
    ) {
        self.name = name
        self.config = config
        self.eventLoopGroup = eventLoopGroup
        self.limits = limits
        self.logger = logger
        self.security = security
    }

    /// The security a listener uses: nil when its `tls` is false; a configuration error when it
    /// asks for TLS and `[tls]` has no certificate.
    public func listenerSecurity() throws(ConfigError) -> (any ChannelSecurity)? {
        guard try config.bool("tls", default: false) else { return nil }
        guard let security else {
            throw ConfigError(key: config.keyPath("tls"), message: "TLS needs [tls] certificate_file and private_key_file")
        }
        return security
    }
}
