import Foundation
import GRPCCore
import HeraldCore
import HeraldProtocol
import HeraldRPC
import HeraldTesting
import NIOConcurrencyHelpers
import Testing

/// The job's batch call to a comet in another process (`PushMsgs`, Herald's addition to
/// `goim.comet.Comet`), against a real comet's gRPC service with real clients; and the fallback
/// for a comet that does not know the call.
@Suite("end to end: batched pushes over gRPC")
struct CometBatchRPCTests {
    /// The comet service as goim's comet offers it: every method but Herald's `PushMsgs`. goim's
    /// Go comet cannot run here; this is Herald's own service with that one method taken out.
    struct WithoutPushMsgs: RegistrableRPCService {
        let base: Counting
        func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
            base.registerMethods(with: &router)
            _ = router.removeHandler(forMethod: Goim_Comet_Comet.Method.PushMsgs.descriptor)
        }
    }

    /// Herald's comet service, counting the calls of each push method.
    struct Counting: Goim_Comet_Comet.SimpleServiceProtocol {
        let base: CometRPCService
        let single = NIOLockedValueBox(0)
        let batches = NIOLockedValueBox(0)
        func pushMsg(request: Goim_Comet_PushMsgReq, context: ServerContext) async throws -> Goim_Comet_PushMsgReply {
            single.withLockedValue { $0 += 1 }
            return try await base.pushMsg(request: request, context: context)
        }
        func pushMsgs(request: Goim_Comet_PushMsgsReq, context: ServerContext) async throws -> Goim_Comet_PushMsgReply {
            batches.withLockedValue { $0 += 1 }
            return try await base.pushMsgs(request: request, context: context)
        }
        func broadcast(request: Goim_Comet_BroadcastReq, context: ServerContext) async throws -> Goim_Comet_BroadcastReply {
            try await base.broadcast(request: request, context: context)
        }
        func broadcastRoom(request: Goim_Comet_BroadcastRoomReq, context: ServerContext) async throws -> Goim_Comet_BroadcastRoomReply {
            try await base.broadcastRoom(request: request, context: context)
        }
        func rooms(request: Goim_Comet_RoomsReq, context: ServerContext) async throws -> Goim_Comet_RoomsReply {
            try await base.rooms(request: request, context: context)
        }
    }

    static func batch(_ keys: [String], tag: String, seq: UInt64, origins: Int = 1) -> [KeyPush] {
        keys.enumerated().map { i, key in
            var msg = PushMsg()
            msg.operation = 1000
            msg.msg = Data("\(tag) \(key)".utf8)
            msg.heraldOrigin = "rpc-batch-test-\(i % origins)"
            msg.heraldSeq = seq + UInt64(i)
            return KeyPush(keys: [key], operation: 1000, unit: PushUnit(message: msg))
        }
    }

    @Test(
        "a batch reaches each user once through PushMsgs, also when retried; a comet without PushMsgs gets one PushMsg per push, the same deliveries",
        arguments: [true, false])
    func batch(knowsBatch: Bool) async throws {
        try await withGateway { gw in
            let keys = (0..<20).map { "rpc-batch-\($0)" }
            var clients: [any GoimClient] = []
            for (i, key) in keys.enumerated() {
                clients.append(
                    try await gw.client(i % 2 == 0 ? .tcp : .websocket, AuthToken(mid: Int64(700 + i), key: key, accepts: [1000])))
            }
            let service = Counting(base: CometRPCService(comet: gw.server.comet))
            let server = try RPCServerService(
                listen: "127.0.0.1:0", services: knowsBatch ? [service] : [WithoutPushMsgs(base: service)], credentials: .none)
            let serving = Task { try await server.run() }
            defer { serving.cancel() }
            let address = try await server.boundAddress()
            let client = try CometRPCClient(
                serverID: "test-comet", address: address, policy: RPCCallPolicy(timeout: .seconds(30)), credentials: .none)

            try await client.push(Self.batch(keys, tag: "first", seq: 1))
            for (key, c) in zip(keys, clients) { #expect(await c.inbox.next()?.text == "first \(key)") }
            #expect(client.batchCallUnavailable == !knowsBatch, "PushMsgs used where the comet has it, and only there")
            #expect(service.batches.withLockedValue { $0 } == (knowsBatch ? 1 : 0), "one call for the batch")
            #expect(service.single.withLockedValue { $0 } == (knowsBatch ? 0 : keys.count), "or one PushMsg per push")
            // The same batch again (a retry after a lost answer): the comet drops what it delivered.
            try await client.push(Self.batch(keys, tag: "first", seq: 1))
            try await client.push(Self.batch(keys, tag: "second", seq: 100))
            for (key, c) in zip(keys, clients) { #expect(await c.inbox.next()?.text == "second \(key)") }
            // From 20 logic processes: more origins than one request may carry. The comet refuses
            // the batch as a whole; the client sends each push on its own, and all arrive.
            try await client.push(Self.batch(keys, tag: "third", seq: 1000, origins: 20))
            for (key, c) in zip(keys, clients) {
                #expect(await c.inbox.next()?.text == "third \(key)")
                #expect(await c.inbox.next(timeout: .milliseconds(200)) == nil, "nothing twice")
            }
            await client.close()
            for c in clients { await c.close() }
        }
    }
}
