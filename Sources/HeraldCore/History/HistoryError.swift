/// A history store failed (unreachable, or an answer it cannot read).
public struct HistoryError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
