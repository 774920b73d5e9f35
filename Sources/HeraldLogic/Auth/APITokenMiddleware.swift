import HeraldCore
import Hummingbird
import NIOCore

/// Protects the push and admin API: a request must carry `Authorization: Bearer <api_token>`,
/// or it is answered HTTP 401 with goim's envelope and code -401.
struct APITokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let expected: [UInt8]

    init(token: String) { expected = Array("Bearer \(token)".utf8) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = check(authorization: request.headers[.authorization]) { return refusal.response }
        return try await next(request, context)
    }

    /// The refusal for a request whose `Authorization` header is `header`; nil when it may pass.
    func check(authorization header: String?) -> APIAnswer? {
        guard let header, ConstantTime.equal(header.utf8, expected) else {
            return .refusal(
                .unauthorized, code: -401, "authorization: a valid bearer token is required", headers: [.wwwAuthenticate: "Bearer"])
        }
        return nil
    }
}
