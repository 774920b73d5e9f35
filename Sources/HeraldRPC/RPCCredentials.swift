public import GRPCCore
public import HeraldCore
import Metrics

/// How the roles prove to each other that a call comes from the deployment (`[rpc] secret`).
///
/// Every call a Herald role makes carries `authorization: Bearer <secret>`; every call a Herald
/// listener receives must carry it, compared in constant time, or is answered `permissionDenied`
/// and counted in `herald_rpc_refused_total`. `admitWithoutSecret` (`[rpc] insecure`) also lets
/// in calls that carry no credentials at all, as goim's own job and comet send them, for a
/// migration from goim; a wrong secret is refused even then.
public struct RPCCredentials: Sendable, Equatable {
    /// The shared secret; nil sends none and checks none (loopback-only listeners).
    public var secret: String?
    /// Accept calls that carry no `authorization` metadata.
    public var admitWithoutSecret: Bool

    public init(secret: String? = nil, admitWithoutSecret: Bool = false) {
        self.secret = secret.flatMap { $0.isEmpty ? nil : $0 }
        self.admitWithoutSecret = admitWithoutSecret
    }

    /// No secret sent, none checked.
    public static let none = RPCCredentials()

    /// Whether a listener with these credentials authenticates its callers.
    public var authenticatesCallers: Bool { secret != nil && !admitWithoutSecret }

    static let metadataKey = "authorization"

    var clientInterceptors: [any ClientInterceptor] {
        guard let secret else { return [] }
        return [SecretAttacher(value: "Bearer \(secret)")]
    }

    var serverInterceptors: [any ServerInterceptor] {
        guard let secret else { return [] }
        return [SecretCheck(expected: Array("Bearer \(secret)".utf8), admitWithoutSecret: admitWithoutSecret)]
    }

    /// Adds the secret to every outgoing call.
    struct SecretAttacher: ClientInterceptor {
        let value: String

        func intercept<Input: Sendable, Output: Sendable>(
            request: StreamingClientRequest<Input>,
            context: ClientContext,
            next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
        ) async throws -> StreamingClientResponse<Output> {
            var request = request
            request.metadata.replaceOrAddString(value, forKey: RPCCredentials.metadataKey)
            return try await next(request, context)
        }
    }

    /// Refuses every incoming call without the secret before it reaches a service.
    struct SecretCheck: ServerInterceptor {
        let expected: [UInt8]
        let admitWithoutSecret: Bool
        static let refused = Counter(label: "herald_rpc_refused_total")

        func intercept<Input: Sendable, Output: Sendable>(
            request: StreamingServerRequest<Input>,
            context: ServerContext,
            next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
        ) async throws -> StreamingServerResponse<Output> {
            let presented = Array(request.metadata[stringValues: RPCCredentials.metadataKey])
            if presented.isEmpty && admitWithoutSecret { return try await next(request, context) }
            guard presented.count == 1, ConstantTime.equal(presented[0].utf8, expected) else {
                Self.refused.increment()
                return StreamingServerResponse(
                    error: RPCError(code: .permissionDenied, message: "rpc secret: the call carries no valid [rpc] secret")
                )
            }
            return try await next(request, context)
        }
    }
}
