/// A comet's server id (`[server] id`, goim's `server` field): what a session mapping points to,
/// what the job routes a push by and what the registry lists. Its own type so that it cannot be
/// confused with the connection keys and rooms it sits beside as a `String` (`key → server`,
/// `server → keys`). On every wire — gRPC, the queue's `PushMsg`, Redis — it is the plain string.
public struct CometID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, ExpressibleByStringInterpolation {
    public var rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }

    public init(stringLiteral value: String) { rawValue = value }

    public var description: String { rawValue }

    public static func < (lhs: CometID, rhs: CometID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Encoded as the plain string (the registry's JSON keeps goim's shape).
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
