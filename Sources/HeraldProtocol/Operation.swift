/// A goim v2 operation code: the `op` field of a packet header.
///
/// Business pushes carry caller-chosen operations (for example 1000); the codes below are the
/// ones the protocol itself defines. Values and meanings match goim v2's `api/protocol/operation.go`.
public struct Operation: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let handshake = Operation(0)
    public static let handshakeReply = Operation(1)
    public static let heartbeat = Operation(2)
    public static let heartbeatReply = Operation(3)
    public static let sendMessage = Operation(4)
    public static let sendMessageReply = Operation(5)
    public static let disconnectReply = Operation(6)
    public static let auth = Operation(7)
    public static let authReply = Operation(8)
    /// The body holds complete packets back to back (a batch).
    public static let raw = Operation(9)
    public static let changeRoom = Operation(12)
    public static let changeRoomReply = Operation(13)
    public static let sub = Operation(14)
    public static let subReply = Operation(15)
    public static let unsub = Operation(16)
    public static let unsubReply = Operation(17)

    public var description: String { String(rawValue) }
}
