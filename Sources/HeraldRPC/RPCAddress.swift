public import GRPCNIOTransportHTTP2
public import HeraldCore

/// `host:port` strings as gRPC targets and listen addresses.
public enum RPCAddress {
    /// A client target for one or more `host:port` addresses (several are balanced round-robin).
    public static func target(_ addresses: String...) throws -> any ResolvableTarget {
        try target(addresses)
    }

    public static func target(_ addresses: [String]) throws -> any ResolvableTarget {
        let parsed = try addresses.map { try HostPort.parse($0, key: "rpc address") }
        if parsed.count == 1, let only = parsed.first, !only.host.contains(":") {
            return .dns(host: only.host, port: only.port)
        }
        return .ipv4(pairs: parsed.map { (host: $0.host, port: $0.port) })
    }
}
