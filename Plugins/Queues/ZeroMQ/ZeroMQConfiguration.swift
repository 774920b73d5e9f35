public import HeraldCore

/// The `[queue.zeromq]` settings.
public struct ZeroMQConfiguration: Sendable {
    /// Where this process's job side binds its PULL socket (`tcp://host:port`, `ipc://path`,
    /// `inproc://name`); empty for a process that only publishes.
    public var bind: String
    /// The job endpoints logic's PUSH sockets connect to; empty = the resolved `bind` endpoint.
    /// With several, each message goes to the endpoint chosen by its partitioning key, so order
    /// per key holds and load is shared.
    public var connect: [String]
    public var sendHighWaterMark: Int
    public var receiveHighWaterMark: Int
    /// How long a publish may wait while the high-water mark is reached before it fails (-500).
    public var sendTimeout: Duration
    public var linger: Duration
    public var reconnectInterval: Duration
    public var reconnectIntervalMax: Duration
    /// Received messages waiting for the job before the consumer stops reading (then the
    /// socket's receive buffer and high-water mark push back to the publishers).
    public var maxBuffered: Int
    /// Count numbers missing from a sending socket's stream (`herald_stream_seq`) as lost messages.
    public var countLosses: Bool
    /// Accept a `bind` endpoint other machines can reach although nothing authenticates who
    /// connects to it (`insecure = true`). Without it such a bind is refused at start-up: whoever
    /// reaches the socket can inject pushes to every client.
    public var insecure: Bool
    /// CURVE encryption and authentication (``ZeroMQCurve``); nil: plain text.
    public var curve: ZeroMQCurve?

    public init(_ table: ConfigTable) throws(ConfigError) {
        bind = try table.string("bind", default: "tcp://127.0.0.1:5590")
        connect = try table.stringArray("connect", default: [])
        if bind.isEmpty && connect.isEmpty {
            throw ConfigError(key: table.keyPath("connect"), message: "set bind (job side), connect (logic side), or both")
        }
        for endpoint in [bind] + connect where !endpoint.isEmpty {
            guard ["tcp://", "ipc://", "inproc://"].contains(where: { endpoint.hasPrefix($0) }) else {
                throw ConfigError(
                    key: table.keyPath(connect.contains(endpoint) ? "connect" : "bind"),
                    message: "\(endpoint) is not a tcp://, ipc:// or inproc:// endpoint")
            }
        }
        sendHighWaterMark = try table.int("send_hwm", default: 10000, in: 0...10_000_000)
        receiveHighWaterMark = try table.int("receive_hwm", default: 10000, in: 0...10_000_000)
        sendTimeout = try table.duration("send_timeout", default: .seconds(1))
        linger = try table.duration("linger", default: .seconds(1))
        reconnectInterval = try table.duration("reconnect_interval", default: .milliseconds(100))
        reconnectIntervalMax = try table.duration("reconnect_interval_max", default: .seconds(5))
        maxBuffered = try table.int("max_buffered", default: 4096, in: 1...1_000_000)
        countLosses = try table.bool("count_losses", default: true)
        insecure = try table.bool("insecure", default: false)
        curve = try ZeroMQCurve(table, binds: !bind.isEmpty, connects: !connect.isEmpty)
        if !insecure, curve == nil, let host = Self.tcpHost(bind), !LoopbackAddress.contains(host: host) {
            throw ConfigError(
                key: table.keyPath("bind"),
                message:
                    "\(bind) is reachable from other machines, and anyone who reaches it can push to every client: set the curve_* keys (CURVE), bind to 127.0.0.1 (or ipc://), or set insecure = true on a network only the deployment can reach"
            )
        }
    }
}

extension ZeroMQConfiguration {
    /// The host of a `tcp://host:port` endpoint (`*` for every interface); nil for ipc and inproc.
    static func tcpHost(_ endpoint: String) -> String? {
        guard endpoint.hasPrefix("tcp://") else { return nil }
        var rest = endpoint.dropFirst("tcp://".count)
        if let semicolon = rest.lastIndex(of: ";") { rest = rest[rest.index(after: semicolon)...] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { return String(rest[rest.index(after: rest.startIndex)..<close]) }
        guard let colon = rest.lastIndex(of: ":") else { return String(rest) }
        return String(rest[..<colon])
    }
}

extension Duration {
    /// Whole milliseconds for a zmq socket option.
    var zmqMilliseconds: Int32 { Int32(clamping: nanoseconds / 1_000_000) }
}
