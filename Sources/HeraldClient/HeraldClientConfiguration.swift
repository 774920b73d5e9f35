public import Foundation

extension HeraldClient {
    /// How a client connects, keeps its connection alive and comes back.
    public struct Configuration: Sendable {
        /// The comets to connect to, tried in turn: a failed attempt or a drain (op 6) moves on to
        /// the next. At least one.
        public var endpoints: [HeraldEndpoint]
        /// How often the client sends a heartbeat (op 2). A connection whose heartbeat is not
        /// answered before the next one is due is taken as lost. goim's server closes a connection
        /// after `heartbeat × heartbeat_max` of silence (4 min × 2); its clients send every 30 s.
        public var heartbeatInterval: Duration
        /// How long a heartbeat may stay unanswered before the connection is taken as lost
        /// (checked at each interval; no second heartbeat is sent meanwhile).
        public var heartbeatTimeout: Duration
        /// The wait between a lost connection and the next attempt.
        public var backoff: ReconnectBackoff
        /// A connection lost sooner than this after it was accepted counts as a failed attempt, so
        /// the backoff keeps growing (two clients sharing a key, a server that accepts and drops);
        /// one that lasted starts the backoff afresh.
        public var stableAfter: Duration
        /// How long the server may take to accept the token (op 8) once the connection is open.
        public var authTimeout: Duration
        /// How long opening a connection may take (TCP connect, TLS and WebSocket handshakes).
        public var connectTimeout: Duration
        /// How long a call (change room, subscribe, heartbeat) waits for the server's answer.
        public var requestTimeout: Duration
        /// A server that closes the connection after op 7 without op 8 refused the token — or
        /// could not reach its auth backend (goim's protocol does not say which). Refusals are
        /// retried with the backoff, on the next endpoint; after this many in a row the client
        /// stops with ``HeraldClientError/authRefused(attempts:)``: a refused token does not become
        /// valid by itself. With the default backoff, 5 refusals span at least 3.75 s; raise it
        /// where an auth backend may be away longer (`Int.max`: never stop).
        public var maxAuthRefusals: Int
        /// Asks for history (`"recover"` in the op-7 body): after a reconnect the server replays
        /// what the client missed, when `[history]` is on there.
        public var recovers: Bool
        /// The largest packet body accepted from the server.
        public var maxBodySize: Int

        public init(
            endpoints: [HeraldEndpoint],
            heartbeatInterval: Duration = .seconds(30),
            heartbeatTimeout: Duration = .seconds(10),
            backoff: ReconnectBackoff = ReconnectBackoff(),
            stableAfter: Duration = .seconds(10),
            authTimeout: Duration = .seconds(10),
            connectTimeout: Duration = .seconds(10),
            requestTimeout: Duration = .seconds(10),
            maxAuthRefusals: Int = 5,
            recovers: Bool = true,
            maxBodySize: Int = 1 << 20
        ) {
            self.endpoints = endpoints
            self.heartbeatInterval = heartbeatInterval
            self.heartbeatTimeout = heartbeatTimeout
            self.backoff = backoff
            self.stableAfter = stableAfter
            self.authTimeout = authTimeout
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.maxAuthRefusals = maxAuthRefusals
            self.recovers = recovers
            self.maxBodySize = maxBodySize
        }

        /// A configuration from the server's own advice: the JSON of `GET /goim/nodes/weighted`
        /// (goim's node list), fetched by the app with its HTTP client. The endpoints are its nodes
        /// on `transport`'s port, the heartbeat its `heartbeat`, the backoff its `backoff`.
        public init(nodesWeighted json: Data, transport: HeraldEndpoint.Transport = .websocket, tls: Bool = false) throws {
            struct Answer: Decodable {
                struct Nodes: Decodable {
                    struct Backoff: Decodable {
                        var max_delay: Double
                        var base_delay: Double
                        var factor: Double
                        var jitter: Double
                    }
                    var domain: String
                    var tcp_port: Int
                    var ws_port: Int
                    var wss_port: Int
                    var heartbeat: Double
                    var nodes: [String]
                    var backoff: Backoff
                }
                var code: Int
                var data: Nodes?
            }
            let answer: Answer
            do {
                answer = try JSONDecoder().decode(Answer.self, from: json)
            } catch {
                throw HeraldClientError.invalidConfiguration("not a /goim/nodes/weighted answer: \(error)")
            }
            guard answer.code == 0, let nodes = answer.data else {
                throw HeraldClientError.invalidConfiguration("/goim/nodes/weighted answered code \(answer.code)")
            }
            let port =
                switch transport {
                case .websocket: tls ? nodes.wss_port : nodes.ws_port
                case .tcp: nodes.tcp_port
                }
            let hosts = nodes.nodes.isEmpty ? [nodes.domain] : nodes.nodes
            let endpoints = hosts.map { node -> HeraldEndpoint in
                // A node is a host, or host:port (the comet's own advertised address).
                var host = node
                var nodePort = port
                if let colon = node.lastIndex(of: ":"), !node.hasSuffix("]"), let p = Int(node[node.index(after: colon)...]) {
                    host = String(node[..<colon])
                    nodePort = transport == .tcp ? p : port
                }
                return HeraldEndpoint(transport: transport, host: host, port: nodePort, tls: tls)
            }
            self.init(
                endpoints: endpoints,
                heartbeatInterval: .milliseconds(Int64(max(1, nodes.heartbeat) * 1000)),
                backoff: ReconnectBackoff(
                    initial: .milliseconds(Int64(max(0.05, nodes.backoff.base_delay) * 1000)),
                    maximum: .milliseconds(Int64(max(0.05, nodes.backoff.max_delay) * 1000)),
                    multiplier: nodes.backoff.factor,
                    jitter: nodes.backoff.jitter
                )
            )
        }
    }
}
