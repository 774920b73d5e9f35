/// A comet node as logic reports it (`/goim/nodes/instances`, `/goim/online/total`, the console).
/// A comet writes it to the registry as JSON; a field an older comet did not write reads as its
/// default, so comets of two versions can share a registry during an upgrade.
public struct CometNode: Sendable, Hashable, Codable {
    public var id: CometID
    public var addresses: [String]
    public var weight: Int
    public var connectionCount: Int
    public var ipCount: Int
    /// The comet's gRPC address (`host:port`), which job calls; empty in the all-in-one process.
    public var rpcAddress: String
    /// The Herald version the comet runs (empty: not reported).
    public var version: String
    /// When the comet started, and when it last renewed its registration (milliseconds since
    /// 1970; 0: not reported).
    public var startedAtMillis: Int64
    public var renewedAtMillis: Int64

    public init(
        id: CometID, addresses: [String], weight: Int = 10, connectionCount: Int = 0, ipCount: Int = 0, rpcAddress: String = "",
        version: String = "", startedAtMillis: Int64 = 0, renewedAtMillis: Int64 = 0
    ) {
        self.id = id
        self.addresses = addresses
        self.weight = weight
        self.connectionCount = connectionCount
        self.ipCount = ipCount
        self.rpcAddress = rpcAddress
        self.version = version
        self.startedAtMillis = startedAtMillis
        self.renewedAtMillis = renewedAtMillis
    }

    private enum CodingKeys: String, CodingKey {
        case id, addresses, weight, connectionCount, ipCount, rpcAddress, version, startedAtMillis, renewedAtMillis
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(CometID.self, forKey: .id)
        addresses = try c.decodeIfPresent([String].self, forKey: .addresses) ?? []
        weight = try c.decodeIfPresent(Int.self, forKey: .weight) ?? 10
        connectionCount = try c.decodeIfPresent(Int.self, forKey: .connectionCount) ?? 0
        ipCount = try c.decodeIfPresent(Int.self, forKey: .ipCount) ?? 0
        rpcAddress = try c.decodeIfPresent(String.self, forKey: .rpcAddress) ?? ""
        version = try c.decodeIfPresent(String.self, forKey: .version) ?? ""
        startedAtMillis = try c.decodeIfPresent(Int64.self, forKey: .startedAtMillis) ?? 0
        renewedAtMillis = try c.decodeIfPresent(Int64.self, forKey: .renewedAtMillis) ?? 0
    }
}
