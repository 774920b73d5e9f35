import HeraldComet
import HeraldCore
import HeraldTLS
import Logging

/// What the processes apply live on SIGHUP (`herald serve`, `comet`, `logic`, `job`), one
/// function per group of settings so every role applies them the same way.
enum LiveReload {
    /// The queue's reloadable settings (a migration's phase); a different plugin needs a restart.
    static func applyQueue(current: HeraldConfiguration, next: HeraldConfiguration, queue: any QueueBackend) async throws -> [String] {
        if next.queuePlugin != current.queuePlugin { return ["queue.plugin"] }
        if let routed = queue as? ClassRoutedQueue {
            let classes = { (c: HeraldConfiguration) in [c.queueClasses.push, c.queueClasses.room, c.queueClasses.broadcast] }
            if classes(next) != classes(current) { return ["queue.push", "queue.room", "queue.broadcast"].enumerated().filter { classes(next)[$0.offset] != classes(current)[$0.offset] }.map(\.element) }
            return try await routed.reload(tables: next.queueTables)
        }
        guard let reloadable = queue as? any ReloadableQueue else { return [] }
        return try await reloadable.reload(next.queueTable)
    }

    /// The log level.
    static func applyLogLevel(current: HeraldConfiguration, next: HeraldConfiguration) {
        if next.logLevel != current.logLevel { LiveLogLevel.set(next.logLevel) }
    }

    /// The log level, and the TLS files re-read (same paths) or reported as needing a restart.
    static func applyLogLevelAndTLS(current: HeraldConfiguration, next: HeraldConfiguration, tls: TLSContextSource?) throws -> [String] {
        applyLogLevel(current: current, next: next)
        if let tls, next.tls == tls.settings {
            try tls.reload()  // the same files re-read: a renewed certificate
            return []
        }
        return next.tls != current.tls ? ["tls"] : []
    }

    /// Applies the connection and room limits, the log level and the TLS files' contents of `next`;
    /// returns the keys among these that changed but need a restart.
    static func applyCometSettings(
        current: HeraldConfiguration,
        next: HeraldConfiguration,
        comet: Comet,
        tls: TLSContextSource?
    ) throws -> [String] {
        comet.applyLimits(next.comet)
        var restart = try applyLogLevelAndTLS(current: current, next: next, tls: tls)
        if next.transports.map(\.name) != current.transports.map(\.name) { restart.append("transport") }
        return restart
    }

    /// Logs the reload with the keys that still need a restart, and returns them.
    static func announce(_ restart: [String], logger: Logger) -> [String] {
        logger.notice("configuration reloaded", metadata: ["reload.needs_restart": "\(restart.isEmpty ? "nothing" : restart.joined(separator: ","))"])
        return restart
    }
}
