import Foundation
public import GRPCCore
public import HeraldCore
import HeraldProtocol

/// What the logic gRPC service needs from logic: the comet-facing calls and the node list.
public protocol LogicRPCBackend: LogicService {
    /// `/goim/nodes/weighted`'s answer, for the `Nodes` call.
    func rpcNodes(platform: String) async -> Goim_Logic_NodesReply
}

/// Serves goim's `goim.logic.Logic`: comets (Herald's or goim's) authenticate connections, renew
/// mappings and report room counts through it. A refused token is answered `unauthenticated`.
public struct LogicRPCService: Goim_Logic_Logic.SimpleServiceProtocol {
    let logic: any LogicRPCBackend

    public init(logic: any LogicRPCBackend) { self.logic = logic }

    /// Runs a call; an error other than an `RPCError` is answered `internalError` with its
    /// description, so the comet logs what went wrong instead of gRPC's "unknown error".
    private func answer<R>(_ body: () async throws -> R) async throws -> R {
        do {
            return try await body()
        } catch let error as RPCError {
            throw error
        } catch let error as AuthError {
            throw RPCError(code: .unauthenticated, message: error.message)
        } catch {
            throw RPCError(code: .internalError, message: "\(error)")
        }
    }

    public func connect(request: Goim_Logic_ConnectReq, context: ServerContext) async throws -> Goim_Logic_ConnectReply {
        let reply = try await answer {
            try await logic.connect(server: CometID(request.server), cookie: request.cookie, token: Array(request.token))
        }
        var out = Goim_Logic_ConnectReply()
        out.mid = reply.mid
        out.key = reply.key
        out.roomID = reply.roomID
        out.accepts = reply.accepts
        out.heartbeat = Int64(reply.heartbeat.nanoseconds)
        out.heraldPlatform = reply.platform
        if let grants = reply.grants {
            out.heraldGranted = true
            out.heraldRooms = grants.rooms
            out.heraldOperations = grants.operations.sorted()
        }
        return out
    }

    public func disconnect(request: Goim_Logic_DisconnectReq, context: ServerContext) async throws -> Goim_Logic_DisconnectReply {
        var out = Goim_Logic_DisconnectReply()
        out.has = try await answer { try await logic.disconnect(mid: request.mid, key: request.key, server: CometID(request.server)) }
        return out
    }

    public func heartbeat(request: Goim_Logic_HeartbeatReq, context: ServerContext) async throws -> Goim_Logic_HeartbeatReply {
        try await answer { try await logic.heartbeat(mid: request.mid, key: request.key, server: CometID(request.server)) }
        return Goim_Logic_HeartbeatReply()
    }

    public func renewOnline(request: Goim_Logic_OnlineReq, context: ServerContext) async throws -> Goim_Logic_OnlineReply {
        var out = Goim_Logic_OnlineReply()
        out.allRoomCount = try await answer { try await logic.renewOnline(server: CometID(request.server), roomCount: request.roomCount) }
        return out
    }

    public func receive(request: Goim_Logic_ReceiveReq, context: ServerContext) async throws -> Goim_Logic_ReceiveReply {
        try await answer { try await logic.receive(mid: request.mid, packet: Packet(request.proto)) }
        return Goim_Logic_ReceiveReply()
    }

    public func nodes(request: Goim_Logic_NodesReq, context: ServerContext) async throws -> Goim_Logic_NodesReply {
        await logic.rpcNodes(platform: request.platform)
    }
}
