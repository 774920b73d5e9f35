import Foundation
import HeraldCore

/// `GET /goim/history`'s data: a stream's epoch and newest offset, the messages after `since`, and
/// whether they are all of them (`complete`; false when the epoch differs, messages were trimmed,
/// or `limit` cut the page short). `unread` counts the messages after `since` in this epoch.
struct HistoryAnswer: Encodable, Sendable {
    struct Message: Encodable, Sendable {
        var offset: UInt64
        var op: Int32
        /// The message body, base64.
        var body: String
        /// When logic stored it (Unix time, milliseconds).
        var time: UInt64
    }

    var stream: String
    var epoch: String
    var top: UInt64
    var unread: UInt64
    var complete: Bool
    var messages: [Message]

    init(stream: String, page: HistoryPage, since: UInt64, epoch: String) {
        self.stream = stream
        self.epoch = page.epoch
        top = page.top
        let sameEpoch = epoch.isEmpty || epoch == page.epoch
        unread = sameEpoch ? page.top - min(since, page.top) : page.top
        complete = page.covers(after: since, epoch: epoch)
        messages = page.entries.map {
            Message(offset: $0.offset, op: $0.operation, body: Data($0.body).base64EncodedString(), time: $0.time)
        }
    }
}
