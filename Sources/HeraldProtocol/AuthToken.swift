public import Foundation

/// The JSON body of an op-7 auth packet, as goim's logic reads it:
/// `{"mid":123,"key":"","room_id":"live://1000","platform":"web","accepts":[1000,1001]}`.
///
/// Every field is optional on the wire; missing fields read as zero values, as in goim.
public struct AuthToken: Codable, Sendable, Hashable {
    public var mid: Int64
    public var key: String
    public var roomID: String
    public var platform: String
    public var accepts: [Int32]

    public init(mid: Int64 = 0, key: String = "", roomID: String = "", platform: String = "", accepts: [Int32] = []) {
        self.mid = mid
        self.key = key
        self.roomID = roomID
        self.platform = platform
        self.accepts = accepts
    }

    enum CodingKeys: String, CodingKey {
        case mid, key, platform, accepts
        case roomID = "room_id"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mid = try c.decodeIfPresent(Int64.self, forKey: .mid) ?? 0
        key = try c.decodeIfPresent(String.self, forKey: .key) ?? ""
        roomID = try c.decodeIfPresent(String.self, forKey: .roomID) ?? ""
        platform = try c.decodeIfPresent(String.self, forKey: .platform) ?? ""
        accepts = try c.decodeIfPresent([Int32].self, forKey: .accepts) ?? []
    }

    /// Parses a token body. Throws ``AuthTokenError`` naming what is wrong.
    public static func parse(_ bytes: some Collection<UInt8>) throws(AuthTokenError) -> AuthToken {
        guard !bytes.isEmpty else { throw .empty }
        if let token = bytes.withContiguousStorageIfAvailable(AuthTokenScanner.scan) ?? nil { return token }
        do {
            return try JSONDecoder().decode(AuthToken.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw .invalid(Self.describe(error))
        } catch {
            throw .invalid(String(describing: error))
        }
    }

    /// The token as JSON bytes (what a client sends in an op-7 body).
    public func jsonBytes() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array((try? encoder.encode(self)) ?? Data())
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .keyNotFound(_, let ctx), .dataCorrupted(let ctx):
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not a JSON object" : "field \(path): \(ctx.debugDescription)"
        @unknown default:
            return "undecodable"
        }
    }
}

/// Why an auth token was refused.
public enum AuthTokenError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case invalid(String)

    public var description: String {
        switch self {
        case .empty: "empty auth token"
        case .invalid(let why): "invalid auth token: \(why)"
        }
    }
}
