public import HeraldCore

struct RoomCount: Encodable, Sendable {
    var room_id: String
    var count: Int32
}

/// A comet in goim's discovery-instance shape (`/goim/nodes/instances`).
struct NodeInstance: Encodable, Sendable {
    var appid = "goim.comet"
    var hostname: String
    var addrs: [String]
    var metadata: [String: String]

    init(_ node: CometNode) {
        hostname = node.id.rawValue
        addrs = node.addresses
        metadata = [
            "addrs": node.addresses.joined(separator: ","),
            "conn_count": String(node.connectionCount),
            "ip_count": String(node.ipCount),
            "weight": String(node.weight),
            "offline": "false",
        ]
    }
}

/// One user's presence (`/goim/online/users`): whether any connection is mapped, how many, and their platforms.
public struct UserOnline: Encodable, Sendable, Equatable {
    public var online: Bool
    public var connections: Int
    public var platforms: [String]
}

struct OnlineTotal: Encodable, Sendable {
    var ip_count: Int
    var conn_count: Int
}
