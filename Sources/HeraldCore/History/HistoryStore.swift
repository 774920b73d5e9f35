/// A history store plugin: per-stream message logs with offsets, so that clients that were away get
/// what they missed (recovery on reconnect, unread messages, `GET /goim/history`).
///
/// A stream is one room (`room:<type://room>`), one user (`user:<mid>`) or the broadcasts
/// (`broadcast`); see ``HistoryStream``. Offsets are assigned by ``append(to:operation:body:)``,
/// start at 1 and grow by 1 per message of a stream. The epoch names one unbroken run of a stream:
/// it changes when the stream's history was lost (a memory store restarted, a Redis key evicted),
/// so offsets from another epoch mean nothing here. A store keeps each stream bounded by count and
/// age (and, where it can, all streams by bytes); what it drops is counted, never silent.
public protocol HistoryStore: Sendable {
    var name: String { get }
    /// Appends one message and returns its position. Throws when the message could not be stored.
    func append(to stream: String, operation: Int32, body: [UInt8]) async throws -> StreamPosition
    /// The messages of `stream` after `offset`, oldest first, at most `limit`.
    func read(_ stream: String, after offset: UInt64, limit: Int) async throws -> HistoryPage
    func shutdown() async
}

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
