import HeraldCore
import NIOCore

/// Where a connection that opted into recovery is in each of its history streams, and, while it
/// recovers, the live pushes it holds back until the replay is written.
///
/// Each stream's messages reach the comet in offset order (logic stores and publishes one message
/// of a stream at a time), so a packet at or below the connection's offset is one it has already:
/// from the replay, or a redelivery. Confined to the connection's event loop.
final class HistoryCursor {
    /// The highest offset delivered per stream kind (room, user, broadcast).
    private var delivered: [UInt64] = [0, 0, 0]
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

    func offset(_ kind: HistoryStream.Kind) -> UInt64 { delivered[Self.index(kind)] }

    func advance(_ kind: HistoryStream.Kind, to offset: UInt64) {
        let i = Self.index(kind)
        delivered[i] = max(delivered[i], offset)
    }

    /// A new room: its stream starts over.
    func reset(_ kind: HistoryStream.Kind) { delivered[Self.index(kind)] = 0 }

    private static func index(_ kind: HistoryStream.Kind) -> Int { Int(kind.rawValue) - 2 }
}
