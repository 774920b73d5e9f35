/// One client connection in the session directory.
public struct SessionMapping: Sendable, Hashable {
    public var mid: Int64
    public var key: String
    public var server: CometID
    public var platform: String

    public init(mid: Int64, key: String, server: CometID, platform: String = "") {
        self.mid = mid
        self.key = key
        self.server = server
        self.platform = platform
    }
}
