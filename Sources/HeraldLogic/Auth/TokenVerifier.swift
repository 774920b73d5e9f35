public import HeraldCore
public import HeraldProtocol

/// Turns a client's op-7 body into the identity logic maps the connection under. Throwing
/// ``AuthError`` refuses the connection (the comet closes it with reason `auth_failed`).
public protocol TokenVerifier: Sendable {
    var name: String { get }
    /// Verifies without suspending when it can (no I/O); nil means "use ``verify(_:)``".
    func verifyNow(_ body: [UInt8]) throws -> VerifiedClient?
    func verify(_ body: [UInt8]) async throws -> VerifiedClient
}

/// Who a verified token says the client is, and what it may change afterwards.
public struct VerifiedClient: Sendable, Hashable {
    public var identity: AuthToken
    /// Rooms op 12 may enter and operations op 14 may add; nil lets the client choose (goim).
    public var grants: ClientGrants?

    public init(identity: AuthToken, grants: ClientGrants?) {
        self.identity = identity
        self.grants = grants
    }
}

/// `none`: goim's behaviour — the JSON token is trusted as sent. For development and for
/// deployments where a front proxy already authenticated the client.
public struct TrustingVerifier: TokenVerifier {
    public var name: String { "none" }
    public init() {}

    public func verifyNow(_ body: [UInt8]) throws -> VerifiedClient? {
        do {
            return VerifiedClient(identity: try AuthToken.parse(body), grants: nil)
        } catch {
            throw AuthError(error.description)
        }
    }

    public func verify(_ body: [UInt8]) async throws -> VerifiedClient { try verifyNow(body)! }
}
