/// Which comets exist: the job pushes to them (``comets()``), logic reports them (``nodes()``,
/// `/goim/nodes/*`, `/goim/online/total`) and judges session mappings by them (``liveServers()``).
///
/// Two implementations, one per deployment shape: the all-in-one process's own comet
/// (`LocalCometDirectory`, called in-process) and the registry of a split deployment
/// (`RegistryWatcher`: comets registered in Redis, called over gRPC).
public protocol CometDirectory: Sendable {
    /// The comets to push to, by server id.
    func comets() async -> [CometID: any CometPusher]
    /// Returns once the directory knows which comets exist (a cluster's registry was read once),
    /// so a job never takes "no comets" for an answer it could acknowledge messages on. Returns
    /// early only when the task is cancelled.
    func ready() async
    /// The comets after a fresh look at the directory (at most a few times a second): what the job
    /// asks before it gives up on a comet it does not know, which may have just registered.
    func refreshedComets() async -> [CometID: any CometPusher]
    /// The comets as logic reports them.
    func nodes() async -> [CometNode]
    /// The ids of the comets alive now, when the directory knows (a cluster's registry); nil when
    /// every mapping's server is alive by construction (the all-in-one process).
    func liveServers() async -> Set<CometID>?
    /// True when every mapping's server is alive by construction (the all-in-one process), so
    /// ``liveServers()`` is nil and need not be asked.
    var everyServerIsLive: Bool { get }
}

extension CometDirectory {
    public func ready() async {}
    public func refreshedComets() async -> [CometID: any CometPusher] { await comets() }
    public func liveServers() async -> Set<CometID>? { nil }
    public var everyServerIsLive: Bool { false }
}
