/// A queue failure with a message fit for the API's -500 answer.
public struct QueueError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
