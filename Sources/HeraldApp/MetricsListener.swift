public import HeraldCore
import HeraldLogic
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `[metrics]`: a `GET /metrics` listener of the process's own, so every process of a split
/// deployment can be scraped (`herald comet` and `herald job` have no API port; on `herald serve`
/// and `herald logic` it keeps scrapes off an API port that faces the internet — they also serve
/// `/metrics` on the API port). Off unless `listen` is set; an address other machines can reach
/// needs `token` (the scraper then sends `Authorization: Bearer <token>`).
public struct MetricsSettings: Sendable {
    public var listen: (host: String, port: Int)?
    public var token: String?
    /// What the process registry announces as this listener's address (`host:port`), for logic's
    /// console to scrape: `advertise`, or `listen` when that names one host and port.
    public var advertised: String?

    public init(table: ConfigTable) throws(ConfigError) {
        let listen = try table.string("listen", default: "")
        let token = try table.string("token", default: "")
        let advertise = try table.string("advertise", default: "")
        self.token = token.isEmpty ? nil : token
        if !advertise.isEmpty {
            let (host, port) = try HostPort.parse(advertise, key: "metrics.advertise")
            guard !ScrapeAddress.isWildcard(host), port > 0 else {
                throw ConfigError(key: "metrics.advertise", message: "\(advertise) is not an address another process can reach")
            }
            advertised = ScrapeAddress.format(host: host, port: port)
        }
        guard !listen.isEmpty else { return }
        let (host, port) = try HostPort.parse(listen, key: "metrics.listen")
        if token.isEmpty && !LoopbackAddress.contains(host: host) {
            throw ConfigError(
                key: "metrics.token",
                message:
                    "\(listen) is reachable from other machines: set [metrics] token (the scraper sends Authorization: Bearer <token>) or listen on 127.0.0.1"
            )
        }
        self.listen = (host, port)
        if advertised == nil, !ScrapeAddress.isWildcard(host), port > 0 { advertised = ScrapeAddress.format(host: host, port: port) }
    }
}

enum MetricsListener {
    /// The listener `settings` ask for, or nil when `listen` is empty (or there is no text).
    static func make(
        _ settings: MetricsSettings,
        text: (@Sendable () -> [UInt8])?,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) -> (any Service)? {
        guard let listen = settings.listen, let text else { return nil }
        let router = Router()
        LogicHTTPAPI.addMetrics(to: router, text: text, token: settings.token)
        return Application(
            router: router,
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "herald"),
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger
        )
    }
}
