public import HeraldCore

/// The `[queue.migration]` settings.
public struct MigrationConfiguration: Sendable {
    /// Plugin names of the two backends; each reads its settings from `[queue.migration.<name>]`.
    public var primary: String
    public var secondary: String
    public var phase: MigrationPhase
    /// Message ids remembered for deduplication.
    public var dedupWindow: Int
    /// How long a message seen on one backend may wait for its twin before the comparator counts
    /// it missing on the other (only in dual-read, when both are published and consumed).
    public var twinTimeout: Duration
    /// How often the comparator logs its figures.
    public var reportInterval: Duration
    /// dual-write: how long a push waits for the secondary to take its copy (the primary's answer
    /// decides the push); the copy goes on in the background.
    public var secondaryWait: Duration
    /// dual-write: copies on their way to the secondary at once; more are skipped and counted.
    public var secondaryInFlight: Int

    public init(_ table: ConfigTable) throws(ConfigError) {
        primary = try table.string("primary", default: "kafka")
        secondary = try table.string("secondary", default: "zeromq")
        guard primary != secondary else {
            throw ConfigError(key: table.keyPath("secondary"), message: "must differ from primary (\(primary))")
        }
        let phaseName = try table.choice(
            "phase", default: MigrationPhase.primaryOnly.rawValue, allowed: MigrationPhase.allCases.map(\.rawValue))
        phase = MigrationPhase(rawValue: phaseName)!
        dedupWindow = try table.int("dedup_window", default: 1_000_000, in: 1_000...100_000_000)
        twinTimeout = try table.duration("twin_timeout", default: .seconds(10))
        reportInterval = try table.duration("report_interval", default: .seconds(10))
        secondaryWait = try table.duration("secondary_wait", default: .milliseconds(50))
        secondaryInFlight = try table.int("secondary_in_flight", default: 4096, in: 1...1_000_000)
    }
}
