import HeraldCore

/// `/goim/nodes/weighted`: where a client should connect, goim's shape.
struct NodesWeighted: Encodable, Sendable {
    struct Backoff: Encodable, Sendable {
        var max_delay: Int
        var base_delay: Int
        var factor: Double
        var jitter: Double
    }

    var domain: String
    var tcp_port: Int
    var ws_port: Int
    var wss_port: Int
    var heartbeat: Int
    var heartbeat_max: Int
    var nodes: [String]
    var backoff: Backoff

    /// Nodes ordered by weight share minus load share (goim's balancer), at most 5.
    static func make(logic: Logic, platform: String) async -> NodesWeighted {
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
