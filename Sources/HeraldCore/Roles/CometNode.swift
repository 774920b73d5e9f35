/// A comet node as logic reports it (`/goim/nodes/instances`, `/goim/online/total`).
public struct CometNode: Sendable, Hashable, Codable {
    public var id: CometID
    public var addresses: [String]
    public var weight: Int
    public var connectionCount: Int
    public var ipCount: Int
    /// The comet's gRPC address (`host:port`), which job calls; empty in the all-in-one process.
    public var rpcAddress: String

    public init(id: CometID, addresses: [String], weight: Int = 10, connectionCount: Int = 0, ipCount: Int = 0, rpcAddress: String = "") {
        self.id = id
        self.addresses = addresses
        self.weight = weight
        self.connectionCount = connectionCount
        self.ipCount = ipCount
        self.rpcAddress = rpcAddress
    }
}
