public import Foundation

/// Room online counts reported by one comet server.
public struct ServerOnline: Sendable, Hashable {
    public var server: CometID
    public var roomCount: [String: Int32]
    public var updated: Date

    public init(server: CometID, roomCount: [String: Int32], updated: Date = Date()) {
        self.server = server
        self.roomCount = roomCount
        self.updated = updated
    }
}
