/// How much history every store keeps per stream.
public struct HistoryLimits: Sendable, Hashable {
    /// Messages kept per stream; older ones are trimmed.
    public var maxMessages: Int
    /// How long a message is kept.
    public var maxAge: Duration

    public init(maxMessages: Int = 100, maxAge: Duration = .seconds(600)) {
        self.maxMessages = maxMessages
        self.maxAge = maxAge
    }
}
