import HeraldCore
import HeraldProtocol
import HeraldRPC
import NIOConcurrencyHelpers

/// The comet's way to logic in a split deployment, whose addresses SIGHUP can change (goim
/// operators behind LVS change the logic pool behind the virtual IP): calls go to the current
/// client; a replaced client is closed once its calls in flight have finished.
final class ReloadableLogicClient: LogicService {
    private struct Current {
        var addresses: [String]
        var client: LogicRPCClient
    }

    private let current: NIOLockedValueBox<Current>
    private let policy: RPCCallPolicy
    private let credentials: RPCCredentials

    init(addresses: [String], policy: RPCCallPolicy, credentials: RPCCredentials) throws {
        self.policy = policy
        self.credentials = credentials
        current = NIOLockedValueBox(
            Current(addresses: addresses, client: try LogicRPCClient(addresses: addresses, policy: policy, credentials: credentials)))
    }

    private var client: LogicRPCClient { current.withLockedValue { $0.client } }

    /// Points new calls at `addresses`; false when they are the ones in use.
    func use(_ addresses: [String]) async throws -> Bool {
        let next = try LogicRPCClient(addresses: addresses, policy: policy, credentials: credentials)
        let old: LogicRPCClient? = current.withLockedValue { c in
            guard c.addresses != addresses else { return nil }
            defer { c = Current(addresses: addresses, client: next) }
            return c.client
        }
        guard let old else {
            await next.close()
            return false
        }
        await old.close()
        return true
    }

    func close() async { await client.close() }

    func connect(server: CometID, cookie: String, token: [UInt8]) async throws -> ConnectReply {
        try await client.connect(server: server, cookie: cookie, token: token)
    }

    func disconnect(mid: Int64, key: String, server: CometID) async throws -> Bool {
        try await client.disconnect(mid: mid, key: key, server: server)
    }

    func heartbeat(mid: Int64, key: String, server: CometID) async throws {
        try await client.heartbeat(mid: mid, key: key, server: server)
    }

    func renewOnline(server: CometID, roomCount: [String: Int32]) async throws -> [String: Int32] {
        try await client.renewOnline(server: server, roomCount: roomCount)
    }

    func receive(mid: Int64, packet: Packet) async throws {
        try await client.receive(mid: mid, packet: packet)
    }
}
