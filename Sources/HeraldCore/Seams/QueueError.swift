/// A queue failure with a message fit for the API's answer.
///
/// A backend that is full says so with ``full(_:retryAfter:)``: the push API then answers at once
/// with HTTP 503, code -503 and a `Retry-After` header instead of queueing the push behind a
/// backlog (-500 is for every other failure).
public struct QueueError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// Set when the backend refused because it is full: when a retry may succeed.
    public var retryAfter: Duration?

    public init(_ message: String) { self.message = message }

    /// The backend holds as much as it may (messages, or how long the oldest has waited).
    public static func full(_ message: String, retryAfter: Duration) -> QueueError {
        var error = QueueError(message)
        error.retryAfter = retryAfter
        return error
    }

    public var description: String { message }
}
