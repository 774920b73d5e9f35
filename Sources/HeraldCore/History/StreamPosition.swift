/// Where a message sits in its stream: its offset and the stream's epoch.
public struct StreamPosition: Sendable, Hashable, CustomStringConvertible {
    public var offset: UInt64
    public var epoch: String

    public init(offset: UInt64, epoch: String) {
        self.offset = offset
        self.epoch = epoch
    }

    public var description: String { "\(offset)@\(epoch)" }
}
