/// Why a client call failed, or why the client stopped.
public enum HeraldClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server closed the connection after the token, without accepting it, this many times in
    /// a row (`Configuration.maxAuthRefusals`); the client stopped rather than retry with the same token.
    case authRefused(attempts: Int)
    /// The call needs a connection and there is none just now (the client is reconnecting).
    case notConnected
    /// The connection was lost before the server answered the call.
    case connectionLost
    /// The server did not answer the call within its timeout.
    case timedOut
    /// ``HeraldClient/close()`` was called.
    case closed
    /// The configuration cannot be used, for the reason given.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .authRefused(let n): "the server refused the token \(n) time(s) in a row"
        case .notConnected: "not connected"
        case .connectionLost: "the connection was lost before the server answered"
        case .timedOut: "the server did not answer in time"
        case .closed: "the client was closed"
        case .invalidConfiguration(let why): "invalid configuration: \(why)"
        }
    }
}
