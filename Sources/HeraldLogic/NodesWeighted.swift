public import HeraldCore

/// `/goim/nodes/weighted`: where a client should connect, goim's shape.
public struct NodesWeighted: Encodable, Sendable {
    public struct Backoff: Encodable, Sendable {
        public var max_delay: Int
        public var base_delay: Int
        public var factor: Double
        public var jitter: Double
    }

    public var domain: String
    public var tcp_port: Int
    public var ws_port: Int
    public var wss_port: Int
    public var heartbeat: Int
    public var heartbeat_max: Int
    public var nodes: [String]
    public var backoff: Backoff

    /// Nodes ordered by weight share minus load share (goim's balancer), at most 5.
    public static func make(logic: Logic, platform: String) async -> NodesWeighted {
        let c = logic.configuration
        let comets = await logic.cometNodes()
        let totalWeight = max(1, comets.reduce(0) { $0 + $1.weight })
        let totalConns = comets.reduce(0) { $0 + $1.connectionCount }
        let ranked = comets.sorted { a, b in
            score(a, totalWeight, totalConns) > score(b, totalWeight, totalConns)
        }
        var nodes = ranked.prefix(5).flatMap { node -> [String] in
            node.addresses.isEmpty ? [] : [node.addresses[0]]
        }
        if nodes.isEmpty { nodes = [c.nodeDomain] }
        return NodesWeighted(
            domain: c.nodeDomain,
            tcp_port: c.tcpPort,
            ws_port: c.wsPort,
            wss_port: c.wssPort,
            heartbeat: Int(c.heartbeat.seconds),
            heartbeat_max: c.heartbeatMax,
            nodes: nodes,
            backoff: Backoff(max_delay: c.backoffMaxDelay, base_delay: c.backoffBaseDelay, factor: c.backoffFactor, jitter: c.backoffJitter)
        )
    }

    private static func score(_ n: CometNode, _ totalWeight: Int, _ totalConns: Int) -> Double {
        let share = Double(n.weight) / Double(totalWeight)
        guard totalConns > 0 else { return share }
        return share - 0.5 * Double(n.connectionCount) / Double(totalConns)
    }
}
