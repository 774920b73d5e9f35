/// A comet's answer that retrying cannot change: the push itself is unacceptable (too large for
/// the call, malformed). The job drops it for that comet, counts and logs it, and acknowledges it,
/// instead of retrying it forever and holding everything behind it.
public struct PushRefused: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "push refused: \(reason)" }
}
