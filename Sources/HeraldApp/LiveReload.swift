import HeraldComet
import HeraldCore
import HeraldTLS

/// What every process holding connections applies live on SIGHUP (`herald serve`, `herald comet`).
enum LiveReload {
    /// Applies the connection and room limits, the log level and the TLS files' contents of `next`;
    /// returns the keys among these that changed but need a restart.
    static func applyCometSettings(
        current: HeraldConfiguration,
        next: HeraldConfiguration,
        comet: Comet,
        tls: TLSContextSource?
    ) throws -> [String] {
        var restart: [String] = []
        comet.applyLimits(next.comet)
        if next.logLevel != current.logLevel { LiveLogLevel.set(next.logLevel) }
        if let tls, next.tls == tls.settings {
            try tls.reload()  // the same files re-read: a renewed certificate
        } else if next.tls != current.tls {
            restart.append("tls")
        }
        if next.transports.map(\.name) != current.transports.map(\.name) { restart.append("transport") }
        return restart
    }
}
