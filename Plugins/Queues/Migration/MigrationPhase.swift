/// Where a staged migration between two queue backends stands. Forward:
/// `primary-only` → `dual-write` → `dual-read` → `secondary-only`; any step can be taken back.
public enum MigrationPhase: String, Sendable, CaseIterable {
    /// Publish to and consume from the primary only (before the migration).
    case primaryOnly = "primary-only"
    /// Publish to both, consume the primary: the secondary fills up and can be watched.
    case dualWrite = "dual-write"
    /// Publish to both, consume both; each message is delivered once (deduplicated by id).
    case dualRead = "dual-read"
    /// Publish to and consume from the secondary only (the migration is done).
    case secondaryOnly = "secondary-only"

    var publishesPrimary: Bool { self != .secondaryOnly }
    var publishesSecondary: Bool { self != .primaryOnly }
    var consumesPrimary: Bool { self == .primaryOnly || self == .dualWrite || self == .dualRead }
    var consumesSecondary: Bool { self == .dualRead || self == .secondaryOnly }

    /// Index for the `herald_migration_phase` gauge.
    var number: Int { Self.allCases.firstIndex(of: self)! }
}
