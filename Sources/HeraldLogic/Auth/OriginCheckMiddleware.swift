public import Hummingbird
import NIOCore

/// Refuses requests a browser sends on behalf of another site (cross-site request forgery).
///
/// A browser names the page that made a request in `Origin`; servers and tools (curl, an app's
/// backend, goim's tools) send none and pass. A request whose `Origin` is neither this API's own
/// address (the `Host` it was sent to) nor listed in `[logic] allowed_origins` is answered HTTP 403
/// with code -403 before it reaches a handler, so a page elsewhere cannot make a visitor's
/// browser push — a "simple" `text/plain` POST needs no preflight and would otherwise go through.
struct OriginCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Allowed origins as browsers write them (`https://app.example.com`), lower-cased.
    let allowed: Set<String>

    init(allowed: [String]) { self.allowed = Set(allowed.map { $0.lowercased() }) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin]?.lowercased() else { return try await next(request, context) }
        if allowed.contains(origin) || Self.isSameOrigin(origin, host: request.head.authority) {
            return try await next(request, context)
        }
        return Response(
            status: .forbidden,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"code":-403,"message":"origin: cross-site requests are refused; list the site in [logic] allowed_origins"}"#))
        )
    }

    /// Whether `origin` (`scheme://host[:port]`) names the address the request was sent to.
    static func isSameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host = host?.lowercased(), !host.isEmpty, let schemeEnd = origin.range(of: "://") else { return false }
        return origin[schemeEnd.upperBound...] == host
    }
}
