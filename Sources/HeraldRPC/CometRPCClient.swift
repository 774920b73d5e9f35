public import GRPCCore
public import GRPCNIOTransportHTTP2
public import HeraldCore
public import HeraldProtocol
import NIOConcurrencyHelpers

/// A comet in another process, called over gRPC (`goim.comet.Comet`): what job pushes through.
/// The unit travels in goim's op-9 envelope with the identity of each packet beside it.
public final class CometRPCClient: CometPusher {
    public let serverID: CometID
    public let address: String
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let stub: Goim_Comet_Comet.Client<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, Never>
    private let policy: RPCCallPolicy
    /// Set once the comet answered `PushMsgs` with UNIMPLEMENTED (goim's comet).
    private let batchUnsupported = NIOLockedValueBox(false)
    /// Whether the comet answered `PushMsgs` with UNIMPLEMENTED (batches go as one `PushMsg` per push).
    public var batchCallUnavailable: Bool { batchUnsupported.withLockedValue { $0 } }

    /// The deadline of a paced broadcast (`speed` > 0), which returns only when it reached every
    /// connection of the comet.
    static let pacedBroadcastTimeout: Duration = .seconds(15 * 60)

    /// Connects (lazily, with reconnects) to the comet at `address` (`host:port`).
    public init(serverID: CometID, address: String, policy: RPCCallPolicy, credentials: RPCCredentials) throws {
        self.serverID = serverID
        self.address = address
        self.policy = policy
        client = try GRPCClient(
            transport: .http2NIOPosix(
                target: RPCAddress.target(address), transportSecurity: credentials.clientSecurity, config: credentials.clientConfig),
            interceptors: credentials.clientInterceptors
        )
        stub = Goim_Comet_Comet.Client(wrapping: client)
        let client = self.client
        connections = Task { try? await client.runConnections() }
    }

    /// Runs a push call; an answer that retrying cannot change becomes ``PushRefused``.
    private func call<Result: Sendable>(
        _ method: String, _ policy: RPCCallPolicy, _ body: (CallOptions) async throws -> Result
    ) async throws {
        do {
            _ = try await policy.run(method, body)
        } catch let error as RPCError
            where [.invalidArgument, .resourceExhausted, .unimplemented, .outOfRange, .failedPrecondition].contains(error.code)
        {
            throw PushRefused("\(method) answered \(error.code): \(error.message)")
        }
    }

    public func push(keys: [String], operation: Int32, unit: PushUnit) async throws {
        let request = Self.request(KeyPush(keys: keys, operation: operation, unit: unit))
        try await call("comet.PushMsg", policy) { try await stub.pushMsg(request, options: $0) }
    }

    private static func request(_ push: KeyPush) -> Goim_Comet_PushMsgReq {
        var request = Goim_Comet_PushMsgReq()
        request.keys = push.keys
        request.protoOp = push.operation
        request.proto = Goim_Protocol_Proto(push.unit)
        request.heraldIds = push.unit.rpcIdentities
        return request
    }

    /// One `PushMsgs` call (Herald's comet); a comet that does not know it (goim's) answers
    /// UNIMPLEMENTED once, and from then on it gets one `PushMsg` per push.
    public func push(_ batch: [KeyPush]) async throws {
        guard batch.count > 1, !batchUnsupported.withLockedValue({ $0 }) else { return try await pushEach(batch) }
        var request = Goim_Comet_PushMsgsReq()
        request.pushes = batch.map(Self.request)
        do {
            _ = try await policy.run("comet.PushMsgs") { try await stub.pushMsgs(request, options: $0) }
        } catch let error as RPCError where error.code == .unimplemented {
            batchUnsupported.withLockedValue { $0 = true }
            try await pushEach(batch)
        } catch let error as RPCError where [.invalidArgument, .resourceExhausted, .outOfRange, .failedPrecondition].contains(error.code) {
            // Refused as a whole (too big, too many origins, one bad push): each push on its own,
            // so only a push that is itself refused is dropped.
            try await pushEach(batch)
        }
    }

    public func broadcast(operation: Int32, unit: PushUnit, speed: Int32) async throws {
        var request = Goim_Comet_BroadcastReq()
        request.protoOp = operation
        request.proto = Goim_Protocol_Proto(unit)
        request.speed = speed
        request.heraldIds = unit.rpcIdentities
        var policy = self.policy
        if speed > 0 { policy.timeout = max(policy.timeout, Self.pacedBroadcastTimeout) }
        try await call("comet.Broadcast", policy) { try await stub.broadcast(request, options: $0) }
    }

    public func broadcastRoom(_ room: String, unit: PushUnit) async throws {
        var request = Goim_Comet_BroadcastRoomReq()
        request.roomID = room
        request.proto = Goim_Protocol_Proto(unit)
        request.heraldIds = unit.rpcIdentities
        try await call("comet.BroadcastRoom", policy) { try await stub.broadcastRoom(request, options: $0) }
    }

    public func rooms() async throws -> [String] {
        let reply = try await policy.run("comet.Rooms") { try await stub.rooms(Goim_Comet_RoomsReq(), options: $0) }
        return reply.rooms.filter(\.value).map(\.key).sorted()
    }

    /// Closes the connection once calls in flight have finished.
    public func close() async {
        client.beginGracefulShutdown()
        await connections.value
    }
}
