import HeraldComet
public import HeraldCore
import HeraldLogic
import HeraldTLS
public import Logging

/// What a reload (SIGHUP) changed: every key whose value differs between the running and the
/// re-read file, each either applied live or waiting for a restart.
public struct ReloadReport: Sendable, Equatable {
    public var applied: [String]
    public var needsRestart: [String]

    public init(applied: [String], needsRestart: [String]) {
        self.applied = applied
        self.needsRestart = needsRestart
    }
}

/// What the processes apply live on SIGHUP (`herald serve`, `comet`, `logic`, `job`), one
/// function per group of settings so every role applies them the same way.
///
/// Which keys changed is not kept by hand: the two documents are compared key by key
/// (``ConfigDiff``), and each changed key is reported as applied when the role declares it live
/// (its `liveKeys`, next to the code that applies them) and as needing a restart otherwise — so a
/// new key is never silently ignored by a reload.
enum LiveReload {
    /// Keys every role applies live.
    static let logKeys = ["log.level"]
    /// The comet's limits (``Comet/applyLimits(_:)``).
    static let cometLimitKeys = ["comet.max_connections", "comet.max_connections_per_ip", "comet.max_rooms"]
    /// Token verification (``Logic/applyAuth(_:)``).
    static let authKeys = ["logic.auth.*"]

    /// Applies the queue's reloadable settings (a migration's phase) and returns the keys that
    /// applies live, as full paths; nothing when the plugin or the class routing changed (those
    /// need a restart, and the running backends keep their settings).
    static func applyQueue(current: HeraldConfiguration, next: HeraldConfiguration, queue: any QueueBackend) async throws -> [String] {
        guard next.queuePlugin == current.queuePlugin else { return [] }
        if let routed = queue as? ClassRoutedQueue {
            let classes = { (c: HeraldConfiguration) in [c.queueClasses.push, c.queueClasses.room, c.queueClasses.broadcast] }
            guard classes(next) == classes(current) else { return [] }
            try await routed.reload(tables: next.queueTables)
            return routed.liveKeys.map { "queue.\($0)" }
        }
        guard let reloadable = queue as? any ReloadableQueue else { return [] }
        try await reloadable.reload(next.queueTable)
        return reloadable.liveKeys.map { "queue.\(current.queuePlugin).\($0)" }
    }

    /// The log level.
    static func applyLogLevel(current: HeraldConfiguration, next: HeraldConfiguration) {
        if next.logLevel != current.logLevel { LiveLogLevel.set(next.logLevel) }
    }

    /// What the logic role applies live, in `herald serve` and `herald logic`; returns those keys.
    /// The steps that can fail come first: token verification (a setting that cannot be used
    /// throws before anything else changes), the certificate files, the phase (which undoes itself).
    static func applyLogicSettings(
        current: HeraldConfiguration,
        next: HeraldConfiguration,
        logic: Logic,
        tls: TLSContextSource?,
        queue: any QueueBackend
    ) async throws -> [String] {
        try logic.applyAuth(next.logic.auth)
        try rereadCertificates(next: next, tls: tls)
        let queueLive = try await applyQueue(current: current, next: next, queue: queue)
        applyLogLevel(current: current, next: next)
        return logKeys + authKeys + queueLive
    }

    /// Re-reads the TLS files when their paths stayed (a renewed certificate); changed paths need
    /// a restart. Throws, keeping the running certificate, when the files cannot be used.
    static func rereadCertificates(next: HeraldConfiguration, tls: TLSContextSource?) throws {
        if let tls, next.tls == tls.settings { try tls.reload() }
    }

    /// Compares the documents, splits the changed keys by `live`, logs and returns the split.
    /// `rpc`: the role calls or serves gRPC, so a secret file whose contents changed at the same
    /// path (no key changed) is reported as needing a restart too.
    /// `sections`: the top-level sections the role reads; changes elsewhere are left out.
    static func report(
        current: HeraldConfiguration,
        next: HeraldConfiguration,
        live: [String],
        rpc: Bool = false,
        sections: Set<String>? = nil,
        logger: Logger
    ) -> ReloadReport {
        var changed = ConfigDiff.changedKeys(current.document, next.document)
        if let sections {
            changed = changed.filter { sections.contains(String($0.prefix { $0 != "." })) }
        }
        if rpc, next.cluster.credentials != current.cluster.credentials, !changed.contains("rpc.secret"),
            !changed.contains("rpc.secret_file")
        {
            changed.append("rpc.secret_file")
        }
        let isLive = { (key: String) in
            live.contains { $0.hasSuffix(".*") ? key.hasPrefix($0.dropLast()) : key == $0 }
        }
        let report = ReloadReport(applied: changed.filter(isLive), needsRestart: changed.filter { !isLive($0) })
        let list = { (keys: [String]) in keys.isEmpty ? "nothing" : keys.joined(separator: ",") }
        logger.notice(
            "configuration reloaded",
            metadata: ["reload.applied": "\(list(report.applied))", "reload.needs_restart": "\(list(report.needsRestart))"]
        )
        return report
    }
}

extension HeraldConfiguration {
    /// Refuses the keys of this document that nobody asked for, each named with the nearest known
    /// key of its section (``ConfigKeyCheck``), and logs the sections this process does not read.
    /// Call it once the process has built every role and plugin; a reload passes the keys known at
    /// start-up as `alsoKnown` (its document is read only by the core, not again by the plugins),
    /// and only sections read at start-up are judged (a section new since then needs a restart).
    /// Returns the keys known now.
    @discardableResult
    public func refuseUnknownKeys(alsoKnown: Set<String> = [], logger: Logger) throws(ConfigError) -> Set<String> {
        guard let log = document.log else { return alsoKnown }
        let known = log.asked.union(alsoKnown)
        let report = ConfigKeyCheck.check(document, known: known, judged: alsoKnown.isEmpty ? nil : alsoKnown)
        for section in report.unused {
            logger.info("configuration section not used by this process", metadata: ["config.section": "\(section)"])
        }
        try ConfigKeyCheck.refuseUnknown(report)
        return known
    }
}

extension HeraldConfiguration {
    /// Refuses a plugin section whose name is no registered plugin — `[queue.kafak]`,
    /// `[queue.migration.zeromqq]`, `[router.rediss]` — naming the plugin it was probably meant to
    /// be (such a section would otherwise only be logged as unused).
    public func refuseUnknownPluginSections(_ plugins: PluginRegistry) throws(ConfigError) {
        func table(_ value: ConfigValue?) -> ConfigTable? {
            if case .table(let t)? = value { t } else { nil }
        }
        let queue = table(document.values["queue"])
        let namespaces: [(ConfigTable?, [String], String)] = [
            (queue, plugins.queueNames, "queue"),
            (table(queue?.values["migration"]), plugins.queueNames, "queue"),
            (table(document.values["router"]), plugins.routerNames, "router"),
        ]
        for case let (section?, registered, kind) in namespaces {
            for (name, value) in section.values.sorted(by: { $0.key < $1.key }) where table(value) != nil && !registered.contains(name) {
                let hint = ConfigKeyCheck.nearest(to: name, among: registered).map { "; did you mean \"\($0)\"?" } ?? ""
                throw ConfigError(
                    key: section.keyPath(name),
                    message: "no \(kind) plugin is named \"\(name)\"\(hint) (registered: \(registered.joined(separator: ", ")))"
                )
            }
        }
    }
}
