import HeraldCore

/// One stream a recovering connection reads: where the client was, and what the store answered.
struct RecoveryRead: Sendable {
    var kind: HistoryStream.Kind
    var stream: String
    /// Where the client was; nil when it named no position (it only learns the current one).
    var since: RecoveryRequest.Since?
    var page: HistoryPage?
    var failure: String?

    init(kind: HistoryStream.Kind, stream: String, since: RecoveryRequest.Since?) {
        self.kind = kind
        self.stream = stream
        self.since = since
    }

    /// Whether the replay of this stream is complete: what the client missed is all in the page.
    var covered: Bool {
        guard let page, let since else { return false }
        return page.covers(after: since.offset, epoch: since.epoch)
    }

    /// Whether this stream leaves nothing missing: covered, or nothing was asked of it.
    var recovered: Bool { since == nil ? page != nil : covered }
}
