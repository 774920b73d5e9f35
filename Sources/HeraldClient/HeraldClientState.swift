/// Where a client's connection stands. ``HeraldClient/states`` yields each change.
public enum HeraldClientState: Sendable, Hashable {
    /// Not started yet.
    case idle
    /// Opening a connection to the endpoint and authenticating; `attempt` counts failed attempts
    /// since the last connection that was accepted.
    case connecting(endpoint: HeraldEndpoint, attempt: Int)
    /// Accepted by the server. `recovered` is the server's answer to the recovery request: true
    /// when everything missed since the last connection is replayed (or, on a first connection,
    /// there was nothing to miss), false when history could not cover the gap, nil when the server
    /// gave goim's empty reply (`recovers` off, or a server that does not answer it).
    case connected(endpoint: HeraldEndpoint, recovered: Bool?)
    /// The connection ended; the next attempt starts after `retryIn`.
    case waiting(retryIn: Duration)
    /// Stopped for good: closed by ``HeraldClient/close()`` or refused (``HeraldClientError``).
    case stopped(HeraldClientError)
}
