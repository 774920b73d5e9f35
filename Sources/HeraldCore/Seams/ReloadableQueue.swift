/// A queue backend that can take new settings while running (on SIGHUP), such as a migration's phase.
public protocol ReloadableQueue: QueueBackend {
    /// The keys of the backend's table that ``reload(_:)`` applies; a change to any other key of
    /// it is reported as needing a restart.
    var liveKeys: [String] { get }
    /// Applies the live keys of the backend's new table; throws (leaving the running settings
    /// untouched) when the table is invalid or a change cannot be made.
    func reload(_ config: ConfigTable) async throws
}
