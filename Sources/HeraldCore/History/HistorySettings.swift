/// `[history]`: whether messages are kept for clients that were away, which ones, and for how long.
/// Off by default (goim keeps nothing); `enabled = true` turns it on with the memory store.
public struct HistorySettings: Sendable, Hashable {
    public var enabled: Bool
    /// The store plugin (`memory`, `redis`); its settings are `[history.<plugin>]`.
    public var store: String
    public var storeTable: ConfigTable
    public var limits: HistoryLimits
    /// Room types whose rooms keep history (`live` keeps `live://…`); empty: every room.
    public var roomTypes: [String]
    /// Whether pushes to users (`/goim/push/mids`) are kept in each user's stream, also while the
    /// user is offline: the unread messages a user reads on the next login.
    public var users: Bool
    /// Whether broadcasts are kept (in one stream).
    public var broadcast: Bool
    /// The most messages one recovery replays per stream; a client that missed more is told
    /// `recovered: false`.
    public var recoverLimit: Int

    public init(table: ConfigTable) throws(ConfigError) {
        _ = table.tableNames  // [history.<plugin>]: read by the store in use
        enabled = try table.bool("enabled", default: false)
        store = try table.string("store", default: "memory")
        storeTable = try table.table(store)
        limits = HistoryLimits(
            maxMessages: try table.int("max_messages", default: 100, in: 1...1_000_000),
            maxAge: try table.duration("max_age", default: .seconds(600))
        )
        guard limits.maxAge > .zero, limits.maxAge <= .seconds(30 * 86400) else {
            throw ConfigError(key: table.keyPath("max_age"), message: "must be positive and at most 30 days")
        }
        roomTypes = try table.stringArray("rooms", default: [])
        users = try table.bool("users", default: true)
        broadcast = try table.bool("broadcast", default: false)
        recoverLimit = try table.int("recover_limit", default: 1000, in: 1...100_000)
        if !enabled { storeTable.acceptUnread() }
    }

    /// History off.
    public static let disabled = try! HistorySettings(table: ConfigTable(path: "history"))

    /// Whether the room `type://room` keeps history.
    public func keeps(room roomID: String) -> Bool {
        guard enabled else { return false }
        guard !roomTypes.isEmpty else { return true }
        return roomTypes.contains { roomID.hasPrefix("\($0)://") }
    }

    /// The stream a delivered packet of this kind belongs to, for a connection of user `mid` in
    /// `roomID`; nil when history does not keep that stream.
    public func stream(_ kind: HistoryStream.Kind, mid: Int64, roomID: String) -> String? {
        guard enabled else { return nil }
        switch kind {
        case .room: return keeps(room: roomID) && !roomID.isEmpty ? HistoryStream.room(roomID) : nil
        case .user: return users && mid != 0 ? HistoryStream.user(mid) : nil
        case .broadcast: return broadcast ? HistoryStream.broadcast : nil
        }
    }
}
