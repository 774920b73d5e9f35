import Foundation
import HeraldCore
import NIOCore

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
