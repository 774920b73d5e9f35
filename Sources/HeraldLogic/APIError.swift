/// An API failure with goim's codes: -400 for a bad request, -500 for a server-side failure, and
/// -503 (HTTP 503 with `Retry-After`) when the queue is full or behind: the push was not accepted
/// and a retry later may be.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var message: String
    /// For -503: when to retry.
    public var retryAfter: Duration?

    public init(code: Int, message: String, retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public static func badRequest(_ message: String) -> APIError { APIError(code: -400, message: message) }
    public static func server(_ message: String) -> APIError { APIError(code: -500, message: message) }
    public static func unavailable(_ message: String, retryAfter: Duration) -> APIError {
        APIError(code: -503, message: message, retryAfter: retryAfter)
    }

    public var description: String { "\(code) \(message)" }
}
