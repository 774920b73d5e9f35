/// What a read returns: the stream's epoch and last offset now, and the entries asked for.
public struct HistoryPage: Sendable, Hashable {
    public var epoch: String
    /// The offset of the newest message appended to the stream in this epoch (0: none yet).
    public var top: UInt64
    public var entries: [HistoryEntry]

    public init(epoch: String, top: UInt64, entries: [HistoryEntry]) {
        self.epoch = epoch
        self.top = top
        self.entries = entries
    }

    /// Whether this page holds every message after `offset` of epoch `epoch`: same epoch (or no
    /// epoch and offset 0: a client that asks for everything there is), nothing trimmed in between,
    /// and not cut short by the read's limit.
    public func covers(after offset: UInt64, epoch: String) -> Bool {
        guard (epoch.isEmpty && offset == 0) || epoch == self.epoch, offset <= top else { return false }
        let wanted = top - offset
        guard UInt64(entries.count) == wanted else { return false }
        return entries.first.map { $0.offset == offset + 1 } ?? true
    }
}
