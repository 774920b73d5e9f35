public import HeraldCore
import HeraldPluginSupport
public import HeraldProtocol

/// Sends each class of message — pushes to keys or users, room messages, broadcasts — through
/// the backend the configuration names for it (`[queue] push`, `room`, `broadcast`), e.g. user
/// pushes on kafka and room floods on zeromq. The job consumes all of them as one.
public final class ClassRoutedQueue: QueueBackend {
    /// The distinct backends by plugin name.
    public let backends: [String: any QueueBackend]
    public let push: any QueueBackend
    public let room: any QueueBackend
    public let broadcast: any QueueBackend
    public let name: String

    public init(push: String, room: String, broadcast: String, backends: [String: any QueueBackend]) throws {
        func backend(_ plugin: String) throws -> any QueueBackend {
            guard let b = backends[plugin] else { throw QueueError("no queue backend \(plugin) was configured") }
            return b
        }
        self.push = try backend(push)
        self.room = try backend(room)
        self.broadcast = try backend(broadcast)
        self.backends = backends
        self.name = "push=\(push),room=\(room),broadcast=\(broadcast)"
    }

    /// The weakest promise of the backends in use.
    public var guarantees: QueueGuarantees {
        let all = backends.values.map(\.guarantees)
        return QueueGuarantees(
            durable: all.allSatisfy(\.durable),
            orderedPerKey: all.allSatisfy(\.orderedPerKey),
            redelivers: all.allSatisfy(\.redelivers)
        )
    }

    public func publish(_ message: PushMsg) async throws {
        switch message.type {
        case .room: try await room.publish(message)
        case .broadcast: try await broadcast.publish(message)
        case .push, .UNRECOGNIZED: try await push.publish(message)
        }
    }

    public func makeConsumer() async throws -> any QueueConsumer {
        let fanIn = ConsumerFanIn()
        for (plugin, backend) in backends.sorted(by: { $0.key < $1.key }) {
            fanIn.add(plugin, try await backend.makeConsumer())
        }
        return fanIn
    }

    /// The live keys of the reloadable backends, as `<plugin>.<key>`.
    public var liveKeys: [String] {
        backends.sorted(by: { $0.key < $1.key }).flatMap { plugin, backend in
            ((backend as? any ReloadableQueue)?.liveKeys ?? []).map { "\(plugin).\($0)" }
        }
    }

    /// Passes a reload on to every backend that takes one (a migration's phase), each with its own
    /// table from `tables` (by plugin name).
    public func reload(tables: [String: ConfigTable]) async throws {
        for (plugin, backend) in backends.sorted(by: { $0.key < $1.key }) {
            guard let reloadable = backend as? any ReloadableQueue else { continue }
            try await reloadable.reload(tables[plugin] ?? ConfigTable())
        }
    }

    public func shutdown() async {
        for backend in backends.values { await backend.shutdown() }
    }
}
