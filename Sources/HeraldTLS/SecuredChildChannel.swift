public import HeraldCore
public import HummingbirdCore
public import Logging
public import NIOCore

/// A Hummingbird child channel that first hands the connection to a ``ChannelSecurity`` (TLS),
/// then sets up the wrapped channel. Unlike a fixed TLS configuration it reads the security's
/// current context per connection, so certificates reload without a restart.
public struct SecuredChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value
    let base: Base
    let security: any ChannelSecurity

    public init(_ base: Base, security: any ChannelSecurity) {
        self.base = base
        self.security = security
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture { try security.secure(channel) }
            .flatMap { base.setup(channel: channel, logger: logger) }
    }

    public func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension SecuredChildChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    public var responder: HTTPChannelHandler.Responder { base.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1, behind TLS when `security` is given.
    public static func http1(security: (any ChannelSecurity)?, configuration: HTTP1Channel.Configuration = .init()) -> HTTPServerBuilder {
        guard let security else { return .http1(configuration: configuration) }
        return HTTPServerBuilder { responder in
            SecuredChildChannel(HTTP1Channel(responder: responder, configuration: configuration), security: security)
        }
    }
}
