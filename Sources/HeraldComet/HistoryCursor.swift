import HeraldCore
import NIOCore

/// Where a connection that opted into recovery is in each of its history streams, and, while it
/// recovers, the live pushes it holds back until the replay is written.
///
/// Each stream's messages reach the comet in offset order (logic stores and publishes one message
/// of a stream at a time), so a packet at or below the connection's offset in the same epoch is one
/// it has already: from the replay, or a redelivery. A packet of another epoch (the stream's
/// history was lost and its offsets started over) moves the cursor to that epoch. Confined to the
/// connection's event loop.
final class HistoryCursor {
    /// The highest offset delivered per stream kind (room, user, broadcast), and its epoch.
    private var delivered: [(offset: UInt64, epoch: String)] = Array(repeating: (0, ""), count: 3)
    /// Live pushes that arrived while history was being read; nil once recovery finished.
    private(set) var held: [PushPayload]? = []
    private var heldBytes = 0
    private let maxHeldBytes: Int

    init(maxHeldBytes: Int) {
        self.maxHeldBytes = maxHeldBytes
    }

    var isRecovering: Bool { held != nil }

    /// Keeps a live push for after the replay; false when that would exceed the bound (the
    /// connection is then closed: its client reconnects and recovers again).
    func hold(_ payload: PushPayload) -> Bool {
        heldBytes += payload.batch.readableBytes
        guard heldBytes <= maxHeldBytes else { return false }
        held?.append(payload)
        return true
    }

    /// Ends the recovery and returns what was held.
    func release() -> [PushPayload] {
        let out = held ?? []
        held = nil
        heldBytes = 0
        return out
    }

    /// Whether every packet of `payload` is one this connection does not have yet.
    func admitsAll(_ payload: PushPayload) -> Bool {
        guard payload.hasOffsets else { return true }
        guard let epoch = payload.epoch else { return false }
        let at = delivered[Self.index(payload.kind)]
        return epoch != at.epoch || payload.lowestOffset > at.offset
    }

    /// Whether a packet at `offset` of `epoch` in a stream of `kind` is new to this connection.
    func admits(_ kind: HistoryStream.Kind, offset: UInt64, epoch: String) -> Bool {
        let at = delivered[Self.index(kind)]
        return offset == 0 || epoch != at.epoch || offset > at.offset
    }

    /// Records a delivered packet.
    func advance(_ kind: HistoryStream.Kind, offset: UInt64, epoch: String) {
        guard offset > 0 else { return }
        let i = Self.index(kind)
        delivered[i] = epoch == delivered[i].epoch ? (max(delivered[i].offset, offset), epoch) : (offset, epoch)
    }

    /// Records every packet of a delivered payload.
    func advance(_ payload: PushPayload) {
        guard payload.hasOffsets else { return }
        if let epoch = payload.epoch {
            advance(payload.kind, offset: payload.highestOffset, epoch: epoch)
        } else {
            payload.forEachPacket { _, offset, epoch in advance(payload.kind, offset: offset, epoch: epoch) }
        }
    }

    /// Where a recovery left the client in a stream.
    func set(_ kind: HistoryStream.Kind, offset: UInt64, epoch: String) { delivered[Self.index(kind)] = (offset, epoch) }

    /// A new room: its stream starts over.
    func reset(_ kind: HistoryStream.Kind) { delivered[Self.index(kind)] = (0, "") }

    private static func index(_ kind: HistoryStream.Kind) -> Int { Int(kind.rawValue) - 2 }
}
