/// A `host:port` another process connects to (a registry entry's metrics address): parsed and
/// checked, so an entry can only name a host and a port — never a path, a scheme or a wildcard.
public struct ScrapeAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// nil unless `text` is `host:port` or `[v6]:port` with a concrete host (letters, digits,
    /// `.`, `-`, `:` only) and a port of 1–65535.
    public init?(_ text: String) {
        guard let (host, port) = try? HostPort.parse(text, key: "address"), port > 0, !Self.isWildcard(host),
            host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" }), host.allSatisfy(\.isASCII)
        else { return nil }
        self.host = host
        self.port = port
    }

    /// An address that names every interface, not one another process can reach.
    public static func isWildcard(_ host: String) -> Bool {
        host.isEmpty || host == "0.0.0.0" || host == "::" || host == "[::]" || host == "*"
    }

    public static func format(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public var description: String { Self.format(host: host, port: port) }
}
