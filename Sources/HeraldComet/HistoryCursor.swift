import HeraldCore
import NIOCore

/// Where a connection that opted into recovery is in each of its history streams, and, while it
/// recovers, the live pushes it holds back until the replay is written.
///
/// Per stream it keeps the highest offset delivered and which of the 64 offsets below it were
/// delivered too, in the stream's epoch. A packet is dropped only when it is one of those (a copy of
/// a replayed message, or a redelivery), or older than the window. A packet that arrives after a
/// higher one (two logic processes, a broadcast on another lane) is still delivered; a packet of
/// another epoch (the stream's history was lost and its offsets started over) moves the cursor to
/// that epoch. Confined to the connection's event loop.
final class HistoryCursor {
    struct Position {
        /// The highest offset delivered.
        var top: UInt64 = 0
        /// Bit i: offset `top - i` was delivered.
        var window: UInt64 = 0
        var epoch = ""
    }

    static let windowSize: UInt64 = 64

    private var positions = [Position](repeating: Position(), count: 3)
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

    /// Whether every packet of `payload` is new to this connection, known without looking at
    /// each packet: all beyond the highest delivered offset, or of another epoch.
    func admitsAll(_ payload: PushPayload) -> Bool {
        guard payload.hasOffsets else { return true }
        guard let epoch = payload.epoch else { return false }
        let at = positions[Self.index(payload.kind)]
        return epoch != at.epoch || payload.lowestOffset > at.top
    }

    /// Whether a packet at `offset` of `epoch` in a stream of `kind` is new to this connection.
    func admits(_ kind: HistoryStream.Kind, offset: UInt64, epoch: String) -> Bool {
        let at = positions[Self.index(kind)]
        guard offset > 0, epoch == at.epoch else { return true }
        guard offset <= at.top else { return true }
        let distance = at.top - offset
        guard distance < Self.windowSize else { return false }
        return at.window & (1 << distance) == 0
    }

    /// Records a delivered packet.
    func advance(_ kind: HistoryStream.Kind, offset: UInt64, epoch: String) {
        guard offset > 0 else { return }
        let i = Self.index(kind)
        var at = positions[i]
        if epoch != at.epoch {
            at = Position(top: offset, window: 1, epoch: epoch)
        } else if offset > at.top {
            let shift = offset - at.top
            at.window = shift >= Self.windowSize ? 1 : (at.window << shift) | 1
            at.top = offset
        } else if at.top - offset < Self.windowSize {
            at.window |= 1 << (at.top - offset)
        }
        positions[i] = at
    }

    /// Records every packet of a delivered payload.
    func advance(_ payload: PushPayload) {
        guard payload.hasOffsets else { return }
        if payload.count == 1, let epoch = payload.epoch {
            advance(payload.kind, offset: payload.highestOffset, epoch: epoch)
        } else {
            for identity in payload.identities {
                if let identity { advance(payload.kind, offset: identity.offset, epoch: identity.epoch) }
            }
        }
    }

    /// Where a recovery left the client: it has everything up to `offset` of `epoch`.
    func set(_ kind: HistoryStream.Kind, offset: UInt64, epoch: String) {
        positions[Self.index(kind)] = Position(top: offset, window: offset > 0 ? ~0 : 0, epoch: epoch)
    }

    /// A new room: its stream starts over.
    func reset(_ kind: HistoryStream.Kind) { positions[Self.index(kind)] = Position() }

    private static func index(_ kind: HistoryStream.Kind) -> Int { Int(kind.rawValue) - 2 }
}
