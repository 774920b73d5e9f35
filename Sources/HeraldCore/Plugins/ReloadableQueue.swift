/// A queue backend that can take new settings while running (on SIGHUP), such as a migration's phase.
public protocol ReloadableQueue: QueueBackend {
    /// Applies what can change live from the backend's new table. Returns the keys that changed
    /// but need a restart; throws (leaving the running settings untouched) when the table is invalid.
    func reload(_ config: ConfigTable) async throws -> [String]
}
