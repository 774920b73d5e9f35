public import HeraldCore
import NIOConcurrencyHelpers
public import NIOCore

/// The listening channels of a transport, closed together when it stops accepting.
public final class ListenerSet: Sendable {
    private let channels = NIOLockedValueBox<[any Channel]>([])

    public init() {}

    public func add(_ channel: any Channel) {
        channels.withLockedValue { $0.append(channel) }
    }

    public var addresses: [SocketAddress] {
        channels.withLockedValue { $0.compactMap(\.localAddress) }
    }

    /// Closes every listener; connections already accepted stay open.
    public func closeAll() async {
        let all = channels.withLockedValue { c in
            let all = c
            c = []
            return all
        }
        for channel in all { try? await channel.close() }
    }
}

/// A listen address from a transport's `listen` key.
public struct ListenAddress: Sendable, Hashable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads the `listen` key of a plugin table (a string or list of `host:port`).
    public static func list(from table: ConfigTable, default value: [String]) throws -> [ListenAddress] {
        try table.stringArray("listen", default: value).map { text in
            let (host, port) = try HostPort.parse(text, key: table.keyPath("listen"))
            return ListenAddress(host: host, port: port)
        }
    }
}
