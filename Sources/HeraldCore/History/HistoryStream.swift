/// The names of history streams, shared by logic (which appends) and comets (which recover).
public enum HistoryStream {
    /// A room's stream: `room:<type://room>`.
    public static func room(_ roomID: String) -> String { "room:\(roomID)" }
    /// A user's stream (pushes to `/goim/push/mids`): `user:<mid>`.
    public static func user(_ mid: Int64) -> String { "user:\(mid)" }
    /// The broadcasts' stream.
    public static let broadcast = "broadcast"

    /// Which stream a delivered packet belongs to; on the wire (for clients that opted in) it is the
    /// packet's `ver` field, its offset the `seq` field.
    public enum Kind: Int16, Sendable, Hashable, CaseIterable {
        case room = 2
        case user = 3
        case broadcast = 4

        public var name: String {
            switch self {
            case .room: "room"
            case .user: "user"
            case .broadcast: "broadcast"
            }
        }
    }
}

extension HistoryStream {
    /// A new epoch: random, short, URL-safe (base 36).
    public static func newEpoch() -> String { String(UInt64.random(in: 1...UInt64.max), radix: 36) }
}
