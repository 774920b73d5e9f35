public import HeraldCore

/// What the comet does with a push for a connection whose outbound buffer is full.
public enum SlowConsumerPolicy: String, Sendable, Hashable, CaseIterable {
    /// Drop the message for that connection; count it in `herald_push_dropped_total`.
    case drop
    /// Close that connection; count it in `herald_connections_closed_total{reason="slow_consumer"}`.
    case disconnect
}

/// The comet role's settings (`[comet]`).
public struct CometConfiguration: Sendable {
    /// This comet's server id: the `server` of every session mapping it creates.
    public var serverID: CometID
    /// Number of key buckets (goim `bucket.size`).
    public var bucketCount: Int = 32
    /// Time a new connection has to send its op-7 auth packet.
    public var handshakeTimeout: Duration = .seconds(5)
    /// How often each event loop checks its connections' deadlines.
    public var timerTick: Duration = .seconds(1)
    /// What happens to a push for a connection that cannot keep up.
    public var slowConsumerPolicy: SlowConsumerPolicy = .drop
    /// Per-connection limits (max body, outbound buffer bound).
    public var limits = ConnectionLimits()
    /// Packets a client may send before its auth completes; more closes the connection.
    public var maxPacketsBeforeAuth: Int = 8
    /// Connections this process holds at most (0 = no limit); more are closed at once, counted.
    public var maxConnections: Int = 100_000
    /// Connections one client IP may hold at most (0 = no limit: mobile carriers put many users behind one address).
    public var maxConnectionsPerIP: Int = 0
    /// On SIGTERM, connections are closed over this window (each told op 6 first) so clients do
    /// not reconnect in one wave.
    public var drainWindow: Duration = .seconds(5)
    /// How often room online counts are reported to logic.
    public var onlineReportInterval: Duration = .seconds(10)
    /// Bounds of the random interval between a connection's heartbeats to logic (goim: 10–30 min).
    public var logicHeartbeatMin: Duration = .seconds(600)
    public var logicHeartbeatMax: Duration = .seconds(1800)
    /// Weight and public addresses reported for node selection.
    public var weight: Int = 10
    /// Distinct rooms this comet holds; a connection asking for one more is refused (0 = no limit).
    public var maxRooms = 1_000_000
    public var publicAddresses: [String] = []
    /// Sequence numbers remembered per message origin to drop pushes delivered already
    /// (`dedup_window / 8` bytes per origin).
    public var dedupWindow = 1 << 20
    /// Message origins (logic processes) remembered at once; the one seen least recently is forgotten.
    public var dedupOrigins = 64
    /// Packets per second one connection may send on average (0 = no limit), and the burst it may
    /// send at once; a client over it is closed (`packet_rate_exceeded`).
    public var packetRate = 100
    public var packetBurst = 200
    /// Upstream messages (ops without a meaning in the protocol) of one connection on their way to
    /// logic at once; more are dropped and counted (`herald_client_requests_refused_total{reason="upstream_busy"}`).
    public var maxUpstreamInFlight = 16

    public init(serverID: CometID) {
        self.serverID = serverID
    }

    /// Reads `[comet]`.
    public init(serverID: CometID, table: ConfigTable) throws {
        self.serverID = try table.string("server_id").map { CometID($0) } ?? serverID
        bucketCount = try table.int("buckets", default: bucketCount, in: 1...65536)
        handshakeTimeout = try table.duration("handshake_timeout", default: handshakeTimeout)
        timerTick = try table.duration("timer_tick", default: timerTick)
        let policy = try table.choice(
            "slow_consumer",
            default: slowConsumerPolicy.rawValue,
            allowed: SlowConsumerPolicy.allCases.map(\.rawValue)
        )
        slowConsumerPolicy = SlowConsumerPolicy(rawValue: policy)!
        limits.maxBodySize = try table.int("max_body_size", default: limits.maxBodySize, in: 16...(16 << 20))
        limits.outboundHighWater = try table.int("outbound_buffer_bytes", default: limits.outboundHighWater, in: 1024...(1 << 30))
        limits.outboundLowWater = limits.outboundHighWater / 4
        limits.requestTimeout = try table.duration("request_timeout", default: limits.requestTimeout)
        guard limits.requestTimeout > .zero else { throw ConfigError(key: table.keyPath("request_timeout"), message: "must be positive") }
        maxPacketsBeforeAuth = try table.int("max_packets_before_auth", default: maxPacketsBeforeAuth, in: 0...1024)
        maxConnections = try table.int("max_connections", default: maxConnections, in: 0...100_000_000)
        maxConnectionsPerIP = try table.int("max_connections_per_ip", default: maxConnectionsPerIP, in: 0...100_000_000)
        maxRooms = try table.int("max_rooms", default: maxRooms, in: 0...100_000_000)
        drainWindow = try table.duration("drain_window", default: drainWindow)
        onlineReportInterval = try table.duration("online_report_interval", default: onlineReportInterval)
        logicHeartbeatMin = try table.duration("logic_heartbeat_min", default: logicHeartbeatMin)
        logicHeartbeatMax = try table.duration("logic_heartbeat_max", default: logicHeartbeatMax)
        weight = try table.int("weight", default: weight, in: 0...1_000_000)
        publicAddresses = try table.stringArray("public_addresses", default: publicAddresses)
        dedupWindow = try table.int("dedup_window", default: dedupWindow, in: 1024...(1 << 30))
        dedupOrigins = try table.int("dedup_origins", default: dedupOrigins, in: 1...100_000)
        packetRate = try table.int("packet_rate", default: packetRate, in: 0...1_000_000)
        packetBurst = try table.int("packet_burst", default: packetBurst, in: 1...1_000_000)
        maxUpstreamInFlight = try table.int("max_upstream_in_flight", default: maxUpstreamInFlight, in: 1...10_000)
        guard timerTick > .zero else { throw ConfigError(key: table.keyPath("timer_tick"), message: "must be positive") }
        guard logicHeartbeatMin <= logicHeartbeatMax else {
            throw ConfigError(key: table.keyPath("logic_heartbeat_min"), message: "must not exceed logic_heartbeat_max")
        }
    }
}
