import Foundation
import HeraldCore
import NIOCore

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

/// What a recovery found, and the auth reply that tells the client:
/// `{"recovered":true,"streams":{"room":{"epoch":"k3j","offset":57},"user":{"epoch":"x9","offset":7}}}`.
/// Each stream's offset is where the client is once the replay is written (or, when that stream
/// was not recovered, the newest offset: the client continues from there).
struct RecoveryOutcome: Sendable {
    var reads: [RecoveryRead]
    /// The client named a position in a stream this connection has no history for.
    var unknownStream: Bool

    var recovered: Bool { !unknownStream && reads.allSatisfy(\.recovered) }

    private struct Reply: Encodable {
        var recovered: Bool
        var streams: [String: Position]
    }

    private struct Position: Encodable {
        var epoch: String
        var offset: UInt64
    }

    func replyBody(allocator: ByteBufferAllocator) -> ByteBuffer {
        var streams: [String: Position] = [:]
        for read in reads {
            guard let page = read.page else { continue }
            let offset = read.covered ? max(read.since?.offset ?? 0, page.entries.last?.offset ?? 0) : page.top
            streams[read.kind.name] = Position(epoch: page.epoch, offset: offset)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(Reply(recovered: recovered, streams: streams))) ?? Data(#"{"recovered":false,"streams":{}}"#.utf8)
        return allocator.buffer(bytes: data)
    }
}
