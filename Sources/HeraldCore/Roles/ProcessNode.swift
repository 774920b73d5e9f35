/// One process of a split deployment as the process registry lists it: which role it runs, its
/// version and times, and where its `/metrics` can be scraped. The console lists every process and
/// adds up their figures.
public struct ProcessNode: Codable, Sendable, Hashable {
    /// The process's `[server] id`.
    public var id: String
    /// `logic`, `job` or `comet`.
    public var role: String
    public var version: String
    /// Milliseconds since 1970: when the process started, and when it last renewed its entry.
    public var startedAtMillis: Int64
    public var renewedAtMillis: Int64
    /// The `[metrics] listen` address (`host:port`), or "" when the process has none.
    public var metricsAddress: String

    public init(id: String, role: String, version: String, startedAtMillis: Int64, renewedAtMillis: Int64, metricsAddress: String) {
        self.id = id
        self.role = role
        self.version = version
        self.startedAtMillis = startedAtMillis
        self.renewedAtMillis = renewedAtMillis
        self.metricsAddress = metricsAddress
    }

    /// The registry's key for this process: a logic and a job may share an id.
    public var key: String { "\(role)/\(id)" }
}
