import HeraldCore
import Hummingbird
import NIOCore

/// Protects the push and admin API: a request must carry `Authorization: Bearer <api_token>`,
/// or it is answered HTTP 401 with goim's envelope and code -401.
struct APITokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let expected: [UInt8]

    init(token: String) { expected = Array("Bearer \(token)".utf8) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], ConstantTime.equal(header.utf8, expected) else {
            return Response(
                status: .unauthorized,
                headers: [.contentType: "application/json; charset=utf-8", .wwwAuthenticate: "Bearer"],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(string: #"{"code":-401,"message":"authorization: a valid bearer token is required"}"#))
            )
        }
        return try await next(request, context)
    }
}
