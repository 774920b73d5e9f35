public import GRPCCore
public import HeraldCore
import HeraldProtocol

/// Serves goim's `goim.comet.Comet` for one comet: job (Herald's or goim's) pushes through it.
/// Argument errors carry goim's messages with code `invalidArgument`; an op-9 body whose inner
/// packets are malformed, or identities that do not match its packets, are refused the same way.
public struct CometRPCService: Goim_Comet_Comet.SimpleServiceProtocol {
    let comet: any CometPusher

    public init(comet: any CometPusher) { self.comet = comet }

    /// Distinct message origins (logic processes) one request may carry.
    static let maxOriginsPerRequest = 16
    /// Pushes one `PushMsgs` request may carry (Herald's job sends at most 256).
    static let maxPushesPerRequest = 1024

    public func pushMsg(request: Goim_Comet_PushMsgReq, context: ServerContext) async throws -> Goim_Comet_PushMsgReply {
        let push = try Self.keyPush(request, "rpc pushmsg arg error")
        try await comet.push(keys: push.keys, operation: push.operation, unit: push.unit)
        return Goim_Comet_PushMsgReply()
    }

    /// The push a `PushMsg` request (alone or in a batch) asks for, checked.
    static func keyPush(_ request: Goim_Comet_PushMsgReq, _ refusal: String) throws -> KeyPush {
        guard !request.keys.isEmpty, request.hasProto else { throw RPCError(code: .invalidArgument, message: refusal) }
        return KeyPush(keys: request.keys, operation: request.protoOp, unit: try unit(request.proto, request.heraldIds, refusal))
    }

    /// Herald's batch: every push checked as ``pushMsg`` checks it, then delivered in one call.
    public func pushMsgs(request: Goim_Comet_PushMsgsReq, context: ServerContext) async throws -> Goim_Comet_PushMsgReply {
        guard request.pushes.count <= Self.maxPushesPerRequest else {
            throw RPCError(
                code: .invalidArgument,
                message: "rpc pushmsgs arg error: \(request.pushes.count) pushes in one request (at most \(Self.maxPushesPerRequest))")
        }
        var batch: [KeyPush] = []
        batch.reserveCapacity(request.pushes.count)
        var origins = Set<String>()
        for push in request.pushes {
            for id in push.heraldIds where !id.origin.isEmpty { origins.insert(id.origin) }
            batch.append(try Self.keyPush(push, "rpc pushmsgs arg error"))
        }
        guard origins.count <= Self.maxOriginsPerRequest else {
            throw RPCError(
                code: .invalidArgument,
                message: "rpc pushmsgs arg error: \(origins.count) message origins in one request (at most \(Self.maxOriginsPerRequest))")
        }
        if !batch.isEmpty { try await comet.push(batch) }
        return Goim_Comet_PushMsgReply()
    }

    public func broadcast(request: Goim_Comet_BroadcastReq, context: ServerContext) async throws -> Goim_Comet_BroadcastReply {
        guard request.hasProto else { throw RPCError(code: .invalidArgument, message: "rpc broadcast arg error") }
        let unit = try Self.unit(request.proto, request.heraldIds, "rpc broadcast arg error")
        try await comet.broadcast(operation: request.protoOp, unit: unit, speed: request.speed)
        return Goim_Comet_BroadcastReply()
    }

    public func broadcastRoom(request: Goim_Comet_BroadcastRoomReq, context: ServerContext) async throws -> Goim_Comet_BroadcastRoomReply {
        guard request.hasProto, !request.roomID.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "rpc broadcast room arg error")
        }
        try await comet.broadcastRoom(request.roomID, unit: Self.unit(request.proto, request.heraldIds, "rpc broadcast room arg error"))
        return Goim_Comet_BroadcastRoomReply()
    }

    public func rooms(request: Goim_Comet_RoomsReq, context: ServerContext) async throws -> Goim_Comet_RoomsReply {
        var reply = Goim_Comet_RoomsReply()
        for room in try await comet.rooms() { reply.rooms[room] = true }
        return reply
    }

    /// The push unit a request carries: goim's op-9 body (or one packet) and Herald's identities.
    static func unit(_ proto: Goim_Protocol_Proto, _ ids: [Goim_Comet_HeraldIdentity], _ refusal: String) throws -> PushUnit {
        let parsed: PushUnit
        do { parsed = try PushUnit.parse(Packet(proto)) } catch {
            throw RPCError(code: .invalidArgument, message: "\(refusal): \(error)")
        }
        let identities = ids.map {
            $0.origin.isEmpty || $0.seq == 0 ? nil : MessageIdentity(origin: $0.origin, seq: $0.seq, offset: $0.offset, epoch: $0.epoch)
        }
        // A batch comes from few logic processes; many origins in one request would make the comet
        // set up a window for each (its memory is bounded, but the work is not worth doing).
        let origins = Set(identities.compactMap { $0?.origin })
        guard origins.count <= Self.maxOriginsPerRequest else {
            throw RPCError(
                code: .invalidArgument,
                message: "\(refusal): \(origins.count) message origins in one request (at most \(Self.maxOriginsPerRequest))")
        }
        guard let unit = parsed.identified(by: identities) else {
            throw RPCError(code: .invalidArgument, message: "\(refusal): \(ids.count) herald_ids for \(parsed.count) packets")
        }
        return unit
    }
}
