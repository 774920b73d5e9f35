import Foundation
public import GRPCCore
public import GRPCNIOTransportHTTP2
public import HeraldCore
public import HeraldProtocol

/// Logic in another process, called over gRPC (`goim.logic.Logic`): what a comet authenticates
/// and reports through. Several logic addresses are balanced round-robin. A refused token comes
/// back as `unauthenticated` and is raised as ``AuthError``, so the comet closes with `auth_failed`.
public final class LogicRPCClient: LogicService {
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let stub: Goim_Logic_Logic.Client<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, Never>
    private let policy: RPCCallPolicy
    private let permits: CallPermits
    /// Upstream messages wait in their own line, so a flood of them cannot delay `Connect`.
    private let receivePermits: CallPermits

    public init(addresses: [String], policy: RPCCallPolicy, credentials: RPCCredentials) throws {
        self.policy = policy
        permits = CallPermits(limit: policy.maxInFlight)
        receivePermits = CallPermits(limit: max(1, policy.maxInFlight / 4))
        client = try GRPCClient(
            transport: .http2NIOPosix(
                target: RPCAddress.target(addresses),
                transportSecurity: credentials.clientSecurity,
                config: credentials.clientConfig,
                serviceConfig: ServiceConfig(loadBalancingConfig: [.roundRobin])
            ),
            interceptors: credentials.clientInterceptors
        )
        stub = Goim_Logic_Logic.Client(wrapping: client)
        let client = self.client
        connections = Task { try? await client.runConnections() }
    }

    public func connect(server: CometID, cookie: String, token: [UInt8]) async throws -> ConnectReply {
        var request = Goim_Logic_ConnectReq()
        request.server = server.rawValue
        request.cookie = cookie
        request.token = Data(token)
        let reply: Goim_Logic_ConnectReply
        do {
            reply = try await call("logic.Connect") { options in
                // A client waits for its auth reply anyway: the call waits for a connection to
                // logic within its deadline rather than failing at once while the channel is
                // between connection attempts, so a comet that started before its logic, or
                // outlived a logic restart, admits clients as soon as logic is back. Background
                // calls (heartbeats, disconnects, room counts) fail fast and are retried.
                var options = options
                options.waitForReady = true
                return try await stub.connect(request, options: options)
            }
        } catch let error as RPCError where error.code == .unauthenticated {
            throw AuthError(error.message)
        }
        return ConnectReply(
            mid: reply.mid,
            key: reply.key,
            roomID: reply.roomID,
            platform: reply.heraldPlatform,
            accepts: reply.accepts,
            heartbeat: .nanoseconds(reply.heartbeat),
            grants: reply.heraldGranted ? ClientGrants(rooms: reply.heraldRooms, operations: reply.heraldOperations) : nil
        )
    }

    public func disconnect(mid: Int64, key: String, server: CometID) async throws -> Bool {
        var request = Goim_Logic_DisconnectReq()
        request.mid = mid
        request.key = key
        request.server = server.rawValue
        return try await call("logic.Disconnect") { try await stub.disconnect(request, options: $0) }.has
    }

    public func heartbeat(mid: Int64, key: String, server: CometID) async throws {
        var request = Goim_Logic_HeartbeatReq()
        request.mid = mid
        request.key = key
        request.server = server.rawValue
        _ = try await call("logic.Heartbeat") { try await stub.heartbeat(request, options: $0) }
    }

    public func renewOnline(server: CometID, roomCount: [String: Int32]) async throws -> [String: Int32] {
        var request = Goim_Logic_OnlineReq()
        request.server = server.rawValue
        request.roomCount = roomCount
        return try await call("logic.RenewOnline") { try await stub.renewOnline(request, options: $0) }.allRoomCount
    }

    public func receive(mid: Int64, packet: Packet) async throws {
        var request = Goim_Logic_ReceiveReq()
        request.mid = mid
        request.proto = Goim_Protocol_Proto(packet)
        _ = try await receivePermits.with { try await policy.run("logic.Receive") { try await stub.receive(request, options: $0) } }
    }

    /// One call: waits for a permit, then runs under the policy (deadline, retries, counters).
    private func call<Reply: Sendable>(_ method: String, _ body: (CallOptions) async throws -> Reply) async throws -> Reply {
        try await permits.with { try await policy.run(method, body) }
    }

    /// Closes the connections once calls in flight have finished.
    public func close() async {
        client.beginGracefulShutdown()
        await connections.value
    }
}
