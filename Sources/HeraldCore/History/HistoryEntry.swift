/// One stored message.
public struct HistoryEntry: Sendable, Hashable {
    public var offset: UInt64
    public var operation: Int32
    public var body: [UInt8]
    /// When it was appended (Unix time, milliseconds).
    public var time: UInt64

    public init(offset: UInt64, operation: Int32, body: [UInt8], time: UInt64) {
        self.offset = offset
        self.operation = operation
        self.body = body
        self.time = time
    }
}
