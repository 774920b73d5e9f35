import Foundation
public import HeraldCore
public import HeraldProtocol
import JWTKit

/// `jwt`: the op-7 body is a JSON Web Token (HS256 with a shared secret, or RS256 with a public
/// key), or goim's JSON with the token in `"token"` (its other fields are ignored). The identity —
/// `mid` (or a numeric `sub`), `room_id`, `platform`, `accepts`, `key` — comes from the verified
/// claims only; without a `key` claim the server assigns one, so a client can choose neither
/// another user, nor a room, nor another connection's key. What it may change afterwards comes
/// from the claims too: `rooms` (patterns op 12 may enter; default the `room_id` only) and
/// `operations` (what op 14 may add; default `accepts`). `exp` is required; `nbf` is checked when
/// present, `iss` and `aud` when `jwt_issuer` / `jwt_audience` are configured.
public final class JWTVerifier: TokenVerifier {
    public var name: String { "jwt" }
    private let keys: Task<JWTKeyCollection, Never>
    private let issuer: String?
    private let audience: String?

    struct Claims: JWTPayload {
        var exp: ExpirationClaim
        var iss: IssuerClaim?
        var sub: SubjectClaim?
        var mid: Int64?
        var room_id: String?
        var platform: String?
        var accepts: [Int32]?
        var key: String?
        var rooms: [String]?
        var operations: [Int32]?
        var nbf: NotBeforeClaim?
        var aud: AudienceClaim?

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
            try nbf?.verifyNotBefore()
        }
    }

    /// The JSON form of the op-7 body in jwt mode (goim's clients send their JSON token; only
    /// `"token"` is read).
    struct Body: Decodable {
        var token: String
    }

    /// Reads and checks the key now (a bad key fails start-up, naming the key).
    public init(configuration: AuthConfiguration) throws(ConfigError) {
        let collection: @Sendable (JWTKeyCollection) async -> Void
        switch configuration.jwtAlgorithm {
        case "HS256":
            guard let secret = configuration.jwtSecret, !secret.isEmpty else {
                throw ConfigError(key: "logic.auth.jwt_secret", message: "HS256 needs a secret")
            }
            guard secret.utf8.count >= 32 else {
                throw ConfigError(
                    key: "logic.auth.jwt_secret", message: "an HS256 secret must be at least 32 bytes (the SHA-256 output size)")
            }
            let key = HMACKey(from: secret)
            collection = { await $0.add(hmac: key, digestAlgorithm: .sha256) }
        default:
            guard let path = configuration.jwtPublicKeyFile else {
                throw ConfigError(key: "logic.auth.jwt_public_key_file", message: "RS256 needs a PEM public key file")
            }
            let key: Insecure.RSA.PublicKey
            do {
                key = try Insecure.RSA.PublicKey(pem: try String(contentsOfFile: path, encoding: .utf8))
            } catch {
                throw ConfigError(
                    key: "logic.auth.jwt_public_key_file",
                    message: "\(path) is not a readable RSA public key of 2048 bits or more: \(error)")
            }
            collection = { await $0.add(rsa: key, digestAlgorithm: .sha256) }
        }
        keys = Task {
            let keys = JWTKeyCollection()
            await collection(keys)
            return keys
        }
        self.issuer = configuration.jwtIssuer
        self.audience = configuration.jwtAudience
    }

    public func verifyNow(_ body: [UInt8]) throws -> VerifiedClient? { nil }

    public func verify(_ body: [UInt8]) async throws -> VerifiedClient {
        var token = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if token.hasPrefix("{") {
            do {
                token = try JSONDecoder().decode(Body.self, from: Data(body)).token
            } catch {
                throw AuthError("jwt: the body is JSON without a \"token\" string")
            }
        }
        let claims: Claims
        do {
            claims = try await keys.value.verify(token, as: Claims.self)
        } catch let error as JWTError {
            throw AuthError("jwt: \(error.reason ?? "\(error.errorType)")")
        } catch {
            throw AuthError("jwt: \(error)")
        }
        if let issuer, claims.iss?.value != issuer {
            throw AuthError("jwt: issuer \(claims.iss?.value ?? "none") is not \(issuer)")
        }
        if let audience {
            guard let aud = claims.aud, (try? aud.verifyIntendedAudience(includes: audience)) != nil else {
                throw AuthError("jwt: audience \(claims.aud?.value.joined(separator: ",") ?? "none") does not include \(audience)")
            }
        }
        guard let mid = claims.mid ?? claims.sub.flatMap({ Int64($0.value) }), mid > 0 else {
            throw AuthError("jwt: the token names no user (a positive \"mid\" or numeric \"sub\" claim)")
        }
        let identity = AuthToken(
            mid: mid, key: claims.key ?? "", roomID: claims.room_id ?? "", platform: claims.platform ?? "", accepts: claims.accepts ?? [])
        return VerifiedClient(identity: identity, grants: ClientGrants(identity, rooms: claims.rooms, operations: claims.operations))
    }
}
