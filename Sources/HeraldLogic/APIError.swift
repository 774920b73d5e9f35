/// An API failure with goim's codes: -400 for a bad request, -500 for a server-side failure.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var message: String

    public static func badRequest(_ message: String) -> APIError { APIError(code: -400, message: message) }
    public static func server(_ message: String) -> APIError { APIError(code: -500, message: message) }

    public var description: String { "\(code) \(message)" }
}
