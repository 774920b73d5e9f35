/// A message pushed to this client.
public struct HeraldMessage: Sendable, Hashable {
    /// The push's operation, as given to the push API (for example 1000).
    public var operation: Int32
    /// The push's body, as given to the push API.
    public var body: [UInt8]
    /// The history stream the message is kept in, or nil for a push history does not keep.
    public var stream: HeraldStream?
    /// The message's offset in ``stream`` (0 when it has none).
    public var offset: UInt64

    public init(operation: Int32, body: [UInt8], stream: HeraldStream? = nil, offset: UInt64 = 0) {
        self.operation = operation
        self.body = body
        self.stream = stream
        self.offset = offset
    }

    /// The body as UTF-8 text (invalid bytes are replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// The history streams a connection can recover: its room's, its user's, and the broadcasts.
public enum HeraldStream: String, Sendable, Hashable, CaseIterable {
    case room, user, broadcast

    /// The packet version that names the stream in a push (2 room, 3 user, 4 broadcast).
    init?(packetVersion: Int16) {
        switch packetVersion {
        case 2: self = .room
        case 3: self = .user
        case 4: self = .broadcast
        default: return nil
        }
    }
}
