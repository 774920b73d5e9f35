public import HeraldCore
public import HeraldProtocol

/// Turns a client's op-7 body into the identity logic maps the connection under. Throwing
/// ``AuthError`` refuses the connection (the comet closes it with reason `auth_failed`).
public protocol TokenVerifier: Sendable {
    var name: String { get }
    /// Verifies without suspending when it can (no I/O); nil means "use ``verify(_:)``".
    func verifyNow(_ body: [UInt8]) throws -> AuthToken?
    func verify(_ body: [UInt8]) async throws -> AuthToken
}

/// `none`: goim's behaviour — the JSON token is trusted as sent. For development and for
/// deployments where a front proxy already authenticated the client.
public struct TrustingVerifier: TokenVerifier {
    public var name: String { "none" }
    public init() {}

    public func verifyNow(_ body: [UInt8]) throws -> AuthToken? {
        do {
            return try AuthToken.parse(body)
        } catch {
            throw AuthError(error.description)
        }
    }

    public func verify(_ body: [UInt8]) async throws -> AuthToken { try verifyNow(body)! }
}
