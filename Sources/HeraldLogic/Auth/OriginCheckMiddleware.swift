import HeraldCore
public import Hummingbird
import NIOCore

/// Refuses requests a browser sends on behalf of another site (cross-site request forgery), and
/// on an API that relies on listening on loopback (no `api_token`), requests whose `Host` is not a
/// loopback name (DNS rebinding: a page at `http://evil.example:3111` whose name is made to point
/// at 127.0.0.1 would otherwise be "same-origin").
///
/// A browser names the page that made a request in `Origin`; servers and tools (curl, an app's
/// backend, goim's tools) send none and pass. A request whose `Origin` is neither this API's own
/// address (the `Host` it was sent to) nor listed in `[logic] allowed_origins` is answered HTTP 403
/// with code -403 before it reaches a handler, so a page elsewhere cannot make a visitor's
/// browser push — a "simple" `text/plain` POST needs no preflight and would otherwise go through.
struct OriginCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Allowed origins as browsers write them (`https://app.example.com`), lower-cased.
    let allowed: Set<String>
    /// When set, the `Host` names (without port) accepted besides loopback ones; nil: any `Host`.
    let loopbackHosts: Set<String>?

    init(allowed: [String], checkHost: Bool, allowedHosts: [String]) {
        self.allowed = Set(allowed.map { $0.lowercased() })
        self.loopbackHosts = checkHost ? Set(allowedHosts.map { $0.lowercased() }) : nil
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = check(host: request.head.authority, origin: request.headers[.origin]) { return refusal.response }
        return try await next(request, context)
    }

    /// The refusal for a request sent to `host` (its authority) from `origin`; nil when it may pass.
    func check(host: String?, origin: String?) -> APIAnswer? {
        let host = host?.lowercased()
        if let extra = loopbackHosts, !Self.isLoopbackHost(host, extra: extra) {
            return Self.forbidden(
                #"host: this API answers only requests addressed to a loopback name; list other names in [logic] allowed_hosts, or set api_token"#
            )
        }
        guard let origin = origin?.lowercased() else { return nil }
        if allowed.contains(origin) || Self.isSameOrigin(origin, host: host) { return nil }
        return Self.forbidden("origin: cross-site requests are refused; list the site in [logic] allowed_origins")
    }

    static func forbidden(_ message: String) -> APIAnswer { .refusal(.forbidden, code: -403, message) }

    /// Whether `host` (`name[:port]` or `[v6]:port`) names this machine's loopback, or one of `extra`.
    static func isLoopbackHost(_ host: String?, extra: Set<String>) -> Bool {
        guard let host, !host.isEmpty else { return false }
        // The usual case first, without allocating: `127.0.0.1` or `localhost`, with or without a port.
        for name in ["127.0.0.1", "localhost"] where host.utf8.starts(with: name.utf8) {
            let rest = host.utf8.dropFirst(name.utf8.count)
            if rest.isEmpty || rest.first == UInt8(ascii: ":") { return true }
        }
        let name: Substring
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            name = host[host.index(after: host.startIndex)..<close]
        } else {
            name = host.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        }
        return LoopbackAddress.contains(host: String(name)) || extra.contains(String(name))
    }

    /// Whether `origin` (`scheme://host[:port]`) names the address the request was sent to.
    static func isSameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host = host?.lowercased(), !host.isEmpty, let schemeEnd = origin.range(of: "://") else { return false }
        return origin[schemeEnd.upperBound...] == host
    }
}
