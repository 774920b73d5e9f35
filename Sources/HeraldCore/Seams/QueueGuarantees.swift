/// What a queue backend promises, declared by the plugin and reported at start-up.
public struct QueueGuarantees: Sendable, Hashable, CustomStringConvertible {
    /// Accepted messages survive a restart of the consuming process.
    public var durable: Bool
    /// Messages with the same key are consumed in publish order.
    public var orderedPerKey: Bool
    /// Messages not acknowledged are delivered again (at-least-once).
    public var redelivers: Bool

    public init(durable: Bool, orderedPerKey: Bool, redelivers: Bool) {
        self.durable = durable
        self.orderedPerKey = orderedPerKey
        self.redelivers = redelivers
    }

    public var description: String { "durable=\(durable) ordered_per_key=\(orderedPerKey) redelivers=\(redelivers)" }
}
