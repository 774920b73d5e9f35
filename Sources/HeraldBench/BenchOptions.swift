/// What one `herald bench` run does.
public struct BenchOptions: Sendable {
    public enum Transport: String, Sendable, CaseIterable { case tcp, websocket }
    /// `room`: every message to room bench://1, delivered to every connection. `unicast`: each
    /// connection is its own user, and message j goes to user j mod N alone (`/goim/push/mids`).
    public enum Workload: String, Sendable, CaseIterable { case room, unicast }

    /// What the load runs against: Herald (goim's protocol and push API) or nginx with the nchan
    /// module, the same load on the peer: subscriber i on `<path>/<id>` (WebSocket), message j
    /// published with `POST /pub/<id>` to the `--api` address.
    public enum Server: String, Sendable, CaseIterable { case herald, nchan }

    public var server: Server = .herald
    public var transport: Transport = .tcp
    public var workload: Workload = .room
    /// The comet's client port (tcp or websocket).
    public var host = "127.0.0.1"
    public var port = 3101
    /// Several comets' client addresses (`host:port`); connection i goes to `targets[i % count]`.
    /// Empty: `host:port` only.
    public var targets: [(host: String, port: Int)] = []
    /// The first connection's number: user ids and keys start here, so several load processes
    /// against one cluster use distinct identities.
    public var firstID = 0
    public var path = "/sub"
    /// The logic HTTP API.
    public var apiHost = "127.0.0.1"
    public var apiPort = 3111
    public var connections = 1000
    /// Local source addresses to spread connections over (so N is not capped by ephemeral ports).
    public var sources = ["127.0.0.1"]
    /// Connections being set up at once.
    public var connectConcurrency = 500
    /// Messages pushed: to the room (each delivered to every connection), or in all to the users (each delivered once).
    public var messages = 100
    /// Messages per second; 0 = as fast as the API takes them (burst).
    public var rate = 0.0
    /// Message body size in bytes (at least enough for the timestamp).
    public var size = 128
    /// HTTP requests in flight at once.
    public var pushConcurrency = 16
    /// Give up waiting for deliveries this long after the last push.
    public var drainTimeout: Duration = .seconds(30)
    /// Process id of the server (for CPU and memory figures), if known.
    public var serverPIDs: [Int32] = []
    public var operation: Int32 = 1000
    /// Event loop threads of the load tool.
    public var threads = 1
    /// Record latency on one connection in this many (0 = automatic, about 1,000 sampled connections).
    public var sampleEvery = 0
    /// Seconds to wait idle before reading per-connection memory.
    public var idleSettle: Duration = .seconds(2)
    /// Connections opt into recovery (`"recover": true` in their op-7 body).
    public var recover = false
    /// Kill a comet under load and measure its clients reconnecting elsewhere and recovering
    /// (`FailoverRunner`); nil for the other benches.
    public var failover: Failover?

    public struct Failover: Sendable {
        /// The comet the clients first connect to (at `host:port`), killed with SIGKILL.
        public var cometPID: Int32
        /// Where its clients reconnect.
        public var target: (host: String, port: Int)
        /// The kill comes before this many messages have been pushed.
        public var killAfter: Int

        public init(cometPID: Int32, target: (host: String, port: Int), killAfter: Int) {
            self.cometPID = cometPID
            self.target = target
            self.killAfter = killAfter
        }
    }

    public init() {}
}
