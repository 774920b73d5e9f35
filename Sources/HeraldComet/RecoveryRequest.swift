import Foundation
import HeraldCore

/// A client's opt-in to history: `"recover"` in its op-7 JSON body, next to goim's fields (or next
/// to `"token"` in jwt mode). It is not part of the identity: it only says which of the streams
/// the verified identity may read (its room, its user, the broadcasts) to replay from where.
///
/// - `"recover": true` — first connection: pushes carry their stream and offset from now on.
/// - `"recover": {"room": {"offset": 41, "epoch": "k3j"}, "user": {"offset": 7, "epoch": "x9"}}` —
///   after a reconnect: replay what came after those offsets, then continue live.
struct RecoveryRequest: Sendable, Hashable {
    struct Since: Sendable, Hashable, Decodable {
        var offset: UInt64
        var epoch: String

        init(offset: UInt64, epoch: String) {
            self.offset = offset
            self.epoch = epoch
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            // Offsets are at most Int64.max in every store; a larger one names nothing there.
            offset = min(try c.decodeIfPresent(UInt64.self, forKey: .offset) ?? 0, UInt64(Int64.max))
            epoch = try c.decodeIfPresent(String.self, forKey: .epoch) ?? ""
        }

        enum CodingKeys: String, CodingKey { case offset, epoch }
    }

    /// Where the client is in each stream it names.
    var since: [HistoryStream.Kind: Since]

    private struct Body: Decodable {
        var recover: Recover?
    }

    private enum Recover: Decodable {
        case flag(Bool)
        case positions([String: Since])

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let flag = try? c.decode(Bool.self) {
                self = .flag(flag)
            } else {
                self = .positions(try c.decode([String: Since].self))
            }
        }
    }

    private static let marker = Array(#""recover""#.utf8)

    /// The request in an op-7 body, or nil when the client did not opt in (goim's clients) or the
    /// field cannot be read. Bodies without the word are not parsed at all.
    static func parse(_ body: [UInt8]) -> RecoveryRequest? {
        guard body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "{"),
            contains(body, marker),
            let parsed = try? JSONDecoder().decode(Body.self, from: Data(body)),
            let recover = parsed.recover
        else { return nil }
        switch recover {
        case .flag(let on):
            return on ? RecoveryRequest(since: [:]) : nil
        case .positions(let named):
            var since: [HistoryStream.Kind: Since] = [:]
            for kind in HistoryStream.Kind.allCases {
                if let s = named[kind.name] { since[kind] = s }
            }
            return RecoveryRequest(since: since)
        }
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<start + needle.count].elementsEqual(needle) { return true }
        }
        return false
    }
}
