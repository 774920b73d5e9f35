/// Where a client connects: a comet's WebSocket or TCP listener, with or without TLS.
public struct HeraldEndpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Transport: String, Sendable, Hashable {
        /// goim's WebSocket transport: one packet per binary message, at `path` (default `/sub`).
        case websocket
        /// goim's TCP transport: packets back to back on the stream.
        case tcp
    }

    public var transport: Transport
    public var host: String
    public var port: Int
    /// The WebSocket path and query (ignored for TCP).
    public var path: String
    /// TLS (wss, or TCP in TLS).
    public var tls: Bool

    public init(transport: Transport, host: String, port: Int, path: String = "/sub", tls: Bool = false) {
        self.transport = transport
        self.host = host
        self.port = port
        self.path = path
        self.tls = tls
    }

    public static func websocket(host: String, port: Int, path: String = "/sub", tls: Bool = false) -> HeraldEndpoint {
        HeraldEndpoint(transport: .websocket, host: host, port: port, path: path, tls: tls)
    }

    public static func tcp(host: String, port: Int, tls: Bool = false) -> HeraldEndpoint {
        HeraldEndpoint(transport: .tcp, host: host, port: port, tls: tls)
    }

    /// An endpoint from a `ws://`, `wss://`, `tcp://` or `tls://` URL string; nil when it is not one.
    public init?(url: String) {
        let schemes: [(String, Transport, Bool, Int)] = [
            ("ws://", .websocket, false, 80), ("wss://", .websocket, true, 443), ("tcp://", .tcp, false, 3101),
            ("tls://", .tcp, true, 3101),
        ]
        guard let (scheme, transport, tls, defaultPort) = schemes.first(where: { url.lowercased().hasPrefix($0.0) }) else { return nil }
        var rest = Substring(url.dropFirst(scheme.count))
        var path = "/sub"
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        var host = String(rest)
        var port = defaultPort
        if rest.hasPrefix("[") {
            // [v6]:port
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { return nil }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
            port = p
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.init(transport: transport, host: host, port: port, path: path, tls: tls)
    }

    public var description: String {
        switch transport {
        case .websocket: "\(tls ? "wss" : "ws")://\(host):\(port)\(path)"
        case .tcp: "\(tls ? "tls" : "tcp")://\(host):\(port)"
        }
    }
}
