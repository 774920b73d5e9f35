public import HeraldLogic
public import HeraldProtocol
public import HeraldRPC

/// Logic serves `goim.logic.Logic` itself: it is the comets' `LogicService` already, and answers
/// the `Nodes` call with `/goim/nodes/weighted`'s content.
extension Logic: LogicRPCBackend {
    public func rpcNodes(platform: String) async -> Goim_Logic_NodesReply {
        let w = await NodesWeighted.make(logic: self, platform: platform)
        var reply = Goim_Logic_NodesReply()
        reply.domain = w.domain
        reply.tcpPort = Int32(w.tcp_port)
        reply.wsPort = Int32(w.ws_port)
        reply.wssPort = Int32(w.wss_port)
        reply.heartbeat = Int32(w.heartbeat)
        reply.heartbeatMax = Int32(w.heartbeat_max)
        reply.nodes = w.nodes
        var backoff = Goim_Logic_Backoff()
        backoff.maxDelay = Int32(w.backoff.max_delay)
        backoff.baseDelay = Int32(w.backoff.base_delay)
        backoff.factor = Float(w.backoff.factor)
        backoff.jitter = Float(w.backoff.jitter)
        reply.backoff = backoff
        return reply
    }
}
