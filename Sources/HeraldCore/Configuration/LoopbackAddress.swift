/// Whether a listen address can only be reached from this machine. Internal listeners (the gRPC
/// ports between roles, the ZeroMQ queue) bind to loopback by default and refuse a wider address
/// unless the traffic is authenticated.
public enum LoopbackAddress {
    /// `host` as written in a listen address: `127.x.x.x`, `::1` and `localhost` are loopback;
    /// `0.0.0.0`, `::`, an empty host and every other address are not.
    public static func contains(host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
