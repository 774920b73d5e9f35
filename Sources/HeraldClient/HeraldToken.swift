/// Who a client is, sent as the op-7 body when it connects.
///
/// In the server's default auth mode (`none`) the fields are taken as sent, as goim does. With
/// `[auth] mode = "jwt"` the server reads only a signed token: use ``jwt(_:)``. Either way the
/// client adds `"recover"` beside it when it asks for what it missed.
public struct HeraldToken: Sendable, Hashable {
    /// The user id; 0 is anonymous.
    public var mid: Int64
    /// The connection key; empty lets the server assign one.
    public var key: String
    /// The room to join (`type://id`); empty joins none.
    public var roomID: String
    /// Free text such as `ios` or `web`; a push to users can be limited to one platform.
    public var platform: String
    /// The operations this connection takes in pushes to keys and users and in broadcasts.
    public var accepts: [Int32]
    /// A signed token for `[auth] mode = "jwt"`; when set, the fields above are not sent.
    public var jwt: String?

    public init(mid: Int64 = 0, key: String = "", roomID: String = "", platform: String = "", accepts: [Int32] = []) {
        self.mid = mid
        self.key = key
        self.roomID = roomID
        self.platform = platform
        self.accepts = accepts
    }

    /// A token for a server in `jwt` auth mode. The room and operations come from its claims.
    public static func jwt(_ token: String) -> HeraldToken {
        var t = HeraldToken()
        t.jwt = token
        return t
    }
}
