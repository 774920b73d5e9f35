public import GRPCCore
public import HeraldCore
import HeraldProtocol

/// Serves goim's `goim.comet.Comet` for one comet: job (Herald's or goim's) pushes through it.
/// Argument errors carry goim's messages with code `invalidArgument`.
public struct CometRPCService: Goim_Comet_Comet.SimpleServiceProtocol {
    let comet: any CometPusher

    public init(comet: any CometPusher) { self.comet = comet }

    public func pushMsg(request: Goim_Comet_PushMsgReq, context: ServerContext) async throws -> Goim_Comet_PushMsgReply {
        guard !request.keys.isEmpty, request.hasProto else { throw RPCError(code: .invalidArgument, message: "rpc pushmsg arg error") }
        try await comet.pushMsg(keys: request.keys, operation: request.protoOp, packet: Packet(request.proto))
        return Goim_Comet_PushMsgReply()
    }

    public func broadcast(request: Goim_Comet_BroadcastReq, context: ServerContext) async throws -> Goim_Comet_BroadcastReply {
        guard request.hasProto else { throw RPCError(code: .invalidArgument, message: "rpc broadcast arg error") }
        try await comet.broadcast(operation: request.protoOp, packet: Packet(request.proto), speed: request.speed)
        return Goim_Comet_BroadcastReply()
    }

    public func broadcastRoom(request: Goim_Comet_BroadcastRoomReq, context: ServerContext) async throws -> Goim_Comet_BroadcastRoomReply {
        guard request.hasProto, !request.roomID.isEmpty else { throw RPCError(code: .invalidArgument, message: "rpc broadcast room arg error") }
        try await comet.broadcastRoom(room: request.roomID, packet: Packet(request.proto))
        return Goim_Comet_BroadcastRoomReply()
    }

    public func rooms(request: Goim_Comet_RoomsReq, context: ServerContext) async throws -> Goim_Comet_RoomsReply {
        var reply = Goim_Comet_RoomsReply()
        for room in try await comet.rooms() { reply.rooms[room] = true }
        return reply
    }
}
