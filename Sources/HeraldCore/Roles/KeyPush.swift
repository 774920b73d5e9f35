/// One push to connections by key, as part of a batch the job sends to one comet in one call
/// (``CometPusher/push(_:)``).
public struct KeyPush: Sendable {
    /// The connections' keys.
    public var keys: [String]
    /// Only connections that accept this operation receive it.
    public var operation: Int32
    public var unit: PushUnit

    public init(keys: [String], operation: Int32, unit: PushUnit) {
        self.keys = keys
        self.operation = operation
        self.unit = unit
    }
}
