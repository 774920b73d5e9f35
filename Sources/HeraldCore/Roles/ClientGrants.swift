public import HeraldProtocol

/// What a verified token lets a connection do after it authenticated: the rooms op 12 may enter
/// and the operations op 14 may add. Logic's `jwt` and `http` modes grant them from the verified
/// claims or the auth backend's answer; goim's plain-token mode grants none, so the client chooses
/// freely as in goim (``ConnectReply/grants`` is nil).
public struct ClientGrants: Sendable, Hashable {
    /// Room patterns: an exact room (`live://1000`), or a prefix ending in `*` (`live://*`, `*`).
    public var rooms: [String]
    /// Operations the client may receive; op 14 adds only these.
    public var operations: Set<Int32>

    public init(rooms: [String], operations: some Sequence<Int32>) {
        self.rooms = rooms
        self.operations = Set(operations)
    }

    /// Whether the connection may be in `room` (leaving every room, `""`, is always allowed).
    public func allows(room: String) -> Bool {
        room.isEmpty
            || rooms.contains { pattern in
                pattern.hasSuffix("*") ? room.hasPrefix(pattern.dropLast()) : room == pattern
            }
    }

    public func allows(operation: Int32) -> Bool { operations.contains(operation) }

    /// Grants from a verified identity: `rooms` when given, else only the identity's own room;
    /// `operations` when given, else what it accepts at first.
    public init(_ identity: AuthToken, rooms: [String]?, operations: [Int32]?) {
        self.init(
            rooms: rooms ?? (identity.roomID.isEmpty ? [] : [identity.roomID]),
            operations: (operations ?? []) + identity.accepts
        )
    }
}
