public import HeraldCore

/// The logic role's settings (`[logic]`).
public struct LogicConfiguration: Sendable {
    /// Address of the HTTP push API (goim's default port 3111), loopback unless configured: an
    /// address other machines can reach needs `api_token` or `insecure = true`.
    public var httpHost = "127.0.0.1"
    public var httpPort = 3111
    /// Largest push message body accepted by the API; larger bodies are refused (HTTP 413, code -400).
    public var maxMessageSize = 4096
    /// Client heartbeat interval suggested to clients (`/goim/nodes/weighted`), goim `node.heartbeat`.
    public var heartbeat: Duration = .seconds(240)
    /// Missed heartbeats before a connection is closed: the comet waits `heartbeat × heartbeat_max`.
    public var heartbeatMax = 2
    /// Room counts older than this are ignored and deleted (goim: 5 min).
    public var onlineDeadline: Duration = .seconds(300)
    /// What `/goim/nodes/weighted` returns.
    public var nodeDomain = "localhost"
    public var tcpPort = 3101
    public var wsPort = 3102
    public var wssPort = 0
    public var backoffMaxDelay = 300
    public var backoffBaseDelay = 3
    public var backoffFactor = 1.8
    public var backoffJitter = 0.3
    /// How client tokens are verified (`[logic.auth]`).
    public var auth = AuthConfiguration()
    /// When set, every `/goim/...` request must carry `Authorization: Bearer <api_token>`.
    public var apiToken: String?
    /// Pushes per second the API accepts across all push endpoints (0 = no limit), and the burst.
    public var pushRateLimit: Double = 0
    public var pushBurst = 100
    /// Serve the API over TLS with the `[tls]` certificate.
    public var tls = false
    /// Serve the browser demo (`/demo`); off unless configured.
    public var demo = false
    /// When set, `GET /metrics` must carry `Authorization: Bearer <metrics_token>` (otherwise the
    /// `api_token`, when that is set).
    public var metricsToken: String?
    /// When set, the console is on: `/admin`, its data behind `Authorization: Bearer <admin_token>`.
    public var adminToken: String?
    /// Sites (`https://app.example.com`) whose pages may call the API from a browser; a request
    /// with any other `Origin` than the API's own is refused.
    public var allowedOrigins: [String] = []
    /// Host names besides loopback ones a loopback API without `api_token` answers to.
    public var allowedHosts: [String] = []
    /// Accept an API address other machines can reach without an `api_token`.
    public var insecure = false

    public init() {}

    /// Reads `[logic]`.
    public init(table: ConfigTable) throws {
        let (host, port) = try HostPort.parse(try table.string("listen", default: "127.0.0.1:3111"), key: table.keyPath("listen"))
        httpHost = host
        httpPort = port
        maxMessageSize = try table.int("max_message_size", default: maxMessageSize, in: 1...(16 << 20))
        heartbeat = try table.duration("heartbeat", default: heartbeat)
        heartbeatMax = try table.int("heartbeat_max", default: heartbeatMax, in: 1...100)
        onlineDeadline = try table.duration("online_deadline", default: onlineDeadline)
        let node = try table.table("node")
        nodeDomain = try node.string("domain", default: nodeDomain)
        tcpPort = try node.int("tcp_port", default: tcpPort, in: 0...65535)
        wsPort = try node.int("ws_port", default: wsPort, in: 0...65535)
        wssPort = try node.int("wss_port", default: wssPort, in: 0...65535)
        let backoff = try table.table("backoff")
        backoffMaxDelay = try backoff.int("max_delay", default: backoffMaxDelay, in: 0...86400)
        backoffBaseDelay = try backoff.int("base_delay", default: backoffBaseDelay, in: 0...86400)
        backoffFactor = try backoff.double("factor", default: backoffFactor)
        backoffJitter = try backoff.double("jitter", default: backoffJitter)
        auth = try AuthConfiguration(table: table.table("auth"))
        apiToken = try table.string("api_token").flatMap { $0.isEmpty ? nil : $0 }
        pushRateLimit = try table.double("push_rate_limit", default: pushRateLimit)
        pushBurst = try table.int("push_burst", default: pushBurst, in: 1...10_000_000)
        tls = try table.bool("tls", default: tls)
        demo = try table.bool("demo", default: demo)
        metricsToken = try table.string("metrics_token").flatMap { $0.isEmpty ? nil : $0 }
        adminToken = try table.string("admin_token").flatMap { $0.isEmpty ? nil : $0 }
        allowedOrigins = try table.stringArray("allowed_origins", default: [])
        for origin in allowedOrigins where !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) || origin.hasSuffix("/") {
            throw ConfigError(
                key: table.keyPath("allowed_origins"), message: "\"\(origin)\" is not an origin such as \"https://app.example.com\"")
        }
        allowedHosts = try table.stringArray("allowed_hosts", default: [])
        insecure = try table.bool("insecure", default: insecure)
        if apiToken == nil && !insecure && !LoopbackAddress.contains(host: httpHost) {
            throw ConfigError(
                key: table.keyPath("listen"),
                message:
                    "\(httpHost):\(httpPort) is reachable from other machines, and anyone who reaches it can push to every client: set api_token, bind to 127.0.0.1, or set insecure = true"
            )
        }
    }

    /// How long a comet waits for a heartbeat before closing a connection.
    public var connectionTimeout: Duration { heartbeat * heartbeatMax }
}
