/// Parses listen addresses written `host:port`, `:port` or `[v6]:port`.
public enum HostPort {
    public static func parse(_ text: String, key: String) throws(ConfigError) -> (host: String, port: Int) {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ConfigError(key: key, message: "\"\(text)\" is not host:port")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ConfigError(key: key, message: "\"\(text)\" is not host:port") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ConfigError(key: key, message: "\"\(text)\" has no valid port (0–65535)")
        }
        return (String(host), port)
    }
}
