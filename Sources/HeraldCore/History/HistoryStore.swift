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
