import HeraldCore
import HeraldRPC
import Logging
import Metrics
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Logic's and job's view of the comet registry: re-reads it every `interval`, serves the node list
/// (`/goim/nodes/*`, online filtering) and keeps one gRPC client per registered comet for job.
///
/// A comet that drops out of the registry is forgotten (and its client closed) only once every
/// successful read for `max(ttl, 2 × interval)` lacked it: a Redis server that restarts empty, or
/// a read that races a renewal, must not make live comets look gone — the job would acknowledge
/// their messages as undeliverable. A live comet renews every `interval`, so it is back by then;
/// time while the registry cannot be read at all does not count.
final class RegistryWatcher: CometDirectory, Service {
    private struct State {
        var nodes: [CometNode] = []
        var clients: [CometID: CometRPCClient] = [:]
        var loaded = false
        /// When a known comet was first missing from a successful read (reset when it is seen).
        var firstMissing: [CometID: ContinuousClock.Instant] = [:]
        /// When the registry was last read successfully.
        var lastRead: ContinuousClock.Instant?
    }

    private let registry: any CometRegistry
    private let interval: Duration
    /// How long a comet may be missing from successful reads before it counts as gone.
    private let grace: Duration
    private let policy: RPCCallPolicy
    private let credentials: RPCCredentials
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    /// Comets in this process's view of the registry; changes of that view; failed reads.
    private let cometsGauge = Gauge(label: "herald_registry_comets")
    private let changes = Counter(label: "herald_registry_changes_total")
    private let readErrors = Counter(label: "herald_registry_read_errors_total")

    init(registry: any CometRegistry, interval: Duration, ttl: Duration, policy: RPCCallPolicy, credentials: RPCCredentials, logger: Logger)
    {
        self.registry = registry
        self.interval = interval
        self.grace = max(ttl, interval * 2)
        self.policy = policy
        self.credentials = credentials
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.refresh()
                try? await Task.sleep(for: self.interval)
            }
        }
        let clients = state.withLockedValue { s in
            defer { s.clients = [:] }
            return Array(s.clients.values)
        }
        for client in clients { await client.close() }
    }

    /// Reads the registry now; on failure keeps the last list. Returns whether the read succeeded.
    @discardableResult
    func refresh() async -> Bool {
        let nodes: [CometNode]
        do {
            nodes = try await registry.registeredComets()
        } catch {
            readErrors.increment()
            logger.warning("reading the comet registry failed; keeping the last list", metadata: ["error": "\(error)"])
            return false
        }
        var dropped: [CometRPCClient] = []
        let now = ContinuousClock.now
        let grace = self.grace
        state.withLockedValue { s in
            let before = Set(s.nodes.map(\.id))
            let read = Set(nodes.map(\.id))
            for id in read { s.firstMissing[id] = nil }
            // Missing from this read, but not yet from every read for the grace: keep the last entry.
            var nodes = nodes
            for node in s.nodes where !read.contains(node.id) {
                let since = s.firstMissing[node.id] ?? now
                if now - since < grace {
                    s.firstMissing[node.id] = since
                    nodes.append(node)
                } else {
                    s.firstMissing[node.id] = nil
                }
            }
            nodes.sort { $0.id < $1.id }
            s.nodes = nodes
            s.loaded = true
            s.lastRead = now
            var kept: [CometID: CometRPCClient] = [:]
            for node in nodes where !node.rpcAddress.isEmpty {
                if let existing = s.clients[node.id], existing.address == node.rpcAddress {
                    kept[node.id] = existing
                } else if let client = try? CometRPCClient(
                    serverID: node.id, address: node.rpcAddress, policy: policy, credentials: credentials)
                {
                    kept[node.id] = client
                }
            }
            for (id, client) in s.clients where kept[id] !== client { dropped.append(client) }
            s.clients = kept
            let after = Set(nodes.map(\.id))
            cometsGauge.record(after.count)
            if before != after {
                changes.increment()
                logger.notice("comet registry changed", metadata: ["comets": "\(after.sorted().map(\.rawValue).joined(separator: ","))"])
            }
        }
        for client in dropped { await client.close() }
        return true
    }

    /// Returns once the registry was read successfully (retrying every `interval` until then), so a
    /// job started while the session store is unreachable waits instead of seeing no comets.
    func ready() async {
        while !state.withLockedValue({ $0.loaded }), !Task.isCancelled {
            if await refresh() { return }
            try? await Task.sleep(for: interval)
        }
    }

    private func loaded() async {
        if !state.withLockedValue({ $0.loaded }) { await refresh() }
    }

    func nodes() async -> [CometNode] {
        await loaded()
        return state.withLockedValue { $0.nodes }
    }

    func liveServers() async -> Set<CometID>? {
        await loaded()
        return state.withLockedValue { Set($0.nodes.map(\.id)) }
    }

    func refreshedComets() async -> [CometID: any CometPusher] {
        let last = state.withLockedValue { $0.lastRead }
        if last.map({ ContinuousClock.now - $0 > .milliseconds(250) }) ?? true { await refresh() }
        return state.withLockedValue { $0.clients }
    }

    func comets() async -> [CometID: any CometPusher] {
        await loaded()
        return state.withLockedValue { $0.clients }
    }
}
