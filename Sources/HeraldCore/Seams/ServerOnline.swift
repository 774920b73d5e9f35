public import Foundation

/// Room online counts reported by one comet server.
public struct ServerOnline: Sendable, Hashable {
    public var server: String
    public var roomCount: [String: Int32]
    public var updated: Date

    public init(server: String, roomCount: [String: Int32], updated: Date = Date()) {
        self.server = server
        self.roomCount = roomCount
        self.updated = updated
    }
}
