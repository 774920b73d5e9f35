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

    public init(name: String, config: ConfigTable, eventLoopGroup: any EventLoopGroup, limits: ConnectionLimits, logger: Logger) {
        self.name = name
        self.config = config
        self.eventLoopGroup = eventLoopGroup
        self.limits = limits
        self.logger = logger
    }
}
