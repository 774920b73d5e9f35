import Foundation
import NIOCore

/// One failover-bench client's place in the room's history stream, kept across its connections:
/// where it started, the newest offset it saw, and what arrived twice or never. Touched by one
/// connection at a time (the next one is opened after the last one closed).
final class RecoveryTrack: @unchecked Sendable {
    let index: Int
    /// The room stream's epoch, from the latest auth reply.
    private(set) var epoch = ""
    /// The room's offset when the client first authenticated; nil until then.
    private(set) var first: UInt64?
    /// The newest room offset received.
    private(set) var newest: UInt64 = 0
    /// Room pushes with an offset above every one before it (each message once, in order).
    private(set) var fresh = 0
    /// Room pushes at or below an offset already received: a duplicate (or out of order).
    private(set) var repeated = 0
    /// Authenticated connections so far.
    private(set) var connections = 0
    /// Reconnections started (the failover runner's bound).
    var reconnectAttempts = 0
    /// The outcome of the latest reconnect's recovery, and when its auth reply came (monotonic ns).
    private(set) var recovered: Bool?
    private(set) var recoveredAtNanos: UInt64 = 0

    init(index: Int) { self.index = index }

    /// An op-8 body `{"recovered":…,"streams":{"room":{"epoch":…,"offset":…}}}`. False when it
    /// names no room position (history off, or the room not kept).
    func authReplied(_ body: ByteBuffer, atNanos now: UInt64) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
            let streams = object["streams"] as? [String: Any],
            let room = streams["room"] as? [String: Any],
            let offset = (room["offset"] as? NSNumber)?.uint64Value
        else { return false }
        connections += 1
        epoch = room["epoch"] as? String ?? ""
        if first == nil {
            first = offset
            newest = offset
        } else {
            recovered = object["recovered"] as? Bool ?? false
            recoveredAtNanos = now
        }
        return true
    }

    /// A room push's offset (the low 32 bits the packet's `seq` carries; bench streams stay below).
    func received(offset: UInt64) {
        if offset <= newest {
            repeated += 1
        } else {
            newest = offset
            fresh += 1
        }
    }

    /// Of `count` messages stored since the client started, how many it never received.
    func missing(of count: Int) -> Int { max(0, count - fresh) }

    /// The op-7 body of the next connection: the identity plus where it stands in the room.
    func reconnectToken(_ identity: [UInt8]) -> [UInt8] {
        identity.dropLast() + Array(#","recover":{"room":{"offset":\#(newest),"epoch":"\#(epoch)"}}}"#.utf8)
    }
}
