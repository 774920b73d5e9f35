public import HeraldCore
public import HummingbirdCore
public import Logging
public import NIOCore

/// A Hummingbird child channel whose connection is handled on the channel's own event loop: the
/// handler task prefers that loop as its task executor (``EventLoopTaskExecutor``), so reading a
/// request, answering it and writing the answer run on one thread. Without it each request hops
/// from the loop to Swift's global executor and back, which cost more than half of a push
/// request's server CPU (measured with `wrk` against the push API).
public struct LoopBoundChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value
    let base: Base

    public init(_ base: Base) {
        self.base = base
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger)
    }

    public func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}

extension LoopBoundChildChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    public var responder: HTTPChannelHandler.Responder { base.responder }
}
