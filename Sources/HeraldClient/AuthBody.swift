import Foundation

/// The op-7 body a client sends: its token, and where to recover from when it asks to.
struct AuthBody: Encodable {
    var token: HeraldToken
    var recover: StreamPositions.RecoverField?

    enum CodingKeys: String, CodingKey {
        case mid, key, room_id, platform, accepts, token, recover
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if let jwt = token.jwt {
            try c.encode(jwt, forKey: .token)
        } else {
            try c.encode(token.mid, forKey: .mid)
            try c.encode(token.key, forKey: .key)
            try c.encode(token.roomID, forKey: .room_id)
            try c.encode(token.platform, forKey: .platform)
            try c.encode(token.accepts, forKey: .accepts)
        }
        try c.encodeIfPresent(recover, forKey: .recover)
    }

    func bytes() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? Array(encoder.encode(self))) ?? Array("{}".utf8)
    }
}
