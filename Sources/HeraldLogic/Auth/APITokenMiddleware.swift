import Hummingbird
import NIOCore

/// Protects the push and admin API: a request must carry `Authorization: Bearer <api_token>`,
/// or it is answered HTTP 401 with goim's envelope and code -401.
struct APITokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let expected: [UInt8]

    init(token: String) { expected = Array("Bearer \(token)".utf8) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], Self.equalInConstantTime(Array(header.utf8), expected) else {
            return Response(
                status: .unauthorized,
                headers: [.contentType: "application/json; charset=utf-8", .wwwAuthenticate: "Bearer"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"code":-401,"message":"authorization: a valid bearer token is required"}"#))
            )
        }
        return try await next(request, context)
    }

    /// Compares without returning early, so the time taken does not reveal how much matched.
    static func equalInConstantTime(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
