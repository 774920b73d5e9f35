import Atomics
public import HeraldCore
public import HeraldProtocol
public import Logging
import Metrics
import NIOConcurrencyHelpers
public import NIOCore
public import ServiceLifecycle

/// The comet role: holds client connections from every transport, authenticates them through
/// logic, answers heartbeats, tracks rooms and op subscriptions, and delivers pushes.
///
/// Connections are indexed by key in ``KeyBucket``s (FNV-1a of the key) and grouped by event loop
/// in ``LoopShard``s, which hold the rooms. A push to a room runs one task per event loop.
public final class Comet: SessionAcceptor, CometPusher, Service {
    public let configuration: CometConfiguration
    public let metrics = CometMetrics()
    public var serverID: CometID { configuration.serverID }
    /// When this comet was built (the registry and the console show its uptime).
    public let startedAtMillis = HeraldVersion.millis()
    public var limits: ConnectionLimits { configuration.limits }

    let logic: any LogicService
    /// What recovering clients replay from (nil: `[history]` is off here).
    let history: (any HistoryStore)?
    let historySettings: HistorySettings
    /// Set when logic shares this process and answers without suspending.
    let localLogic: (any LocalLogicService)?
    let logger: Logger
    let allocator = ByteBufferAllocator()
    let roomOnline = RoomOnline()
    let ips = IPCounter()
    let admission: ConnectionAdmission
    private let maxRoomsLimit: ManagedAtomic<Int>
    private let roomLimitLog = RateLimitedLog(interval: .seconds(10))
    /// Failed background reports to logic (counted in `herald_rpc_calls_total`): logged once per 10 s.
    private let logicCallLog = RateLimitedLog(interval: .seconds(10))
    private let pendingCalls = PendingCalls()
    private let roomsRefused = Counter(label: "herald_rooms_refused_total")
    static let tooManyRooms = CloseReason("too_many_rooms")
    /// Drops pushes delivered here already (redeliveries, retries, migration twins).
    public let deduplicator: DeliveryDeduplicator
    private let buckets: [KeyBucket]
    private let shards: NIOLockedValueBox<[ObjectIdentifier: LoopShard]>

    public init(
        configuration: CometConfiguration,
        logic: any LogicService,
        eventLoopGroup: any EventLoopGroup,
        history: (any HistoryStore)? = nil,
        historySettings: HistorySettings = .disabled,
        logger: Logger
    ) {
        self.configuration = configuration
        self.logic = logic
        // Recoveries that ask for the same read at once share it (a dead comet's clients arrive together).
        self.history = historySettings.enabled ? history.map { SharedHistoryReads($0) } : nil
        self.historySettings = historySettings
        self.localLogic = logic as? any LocalLogicService
        self.logger = logger
        self.admission = ConnectionAdmission(maxTotal: configuration.maxConnections, maxPerIP: configuration.maxConnectionsPerIP)
        self.maxRoomsLimit = ManagedAtomic(configuration.maxRooms)
        self.deduplicator = DeliveryDeduplicator(window: configuration.dedupWindow, maxOrigins: configuration.dedupOrigins, logger: logger)
        self.buckets = (0..<configuration.bucketCount).map { _ in KeyBucket() }
        var shards: [ObjectIdentifier: LoopShard] = [:]
        for loop in eventLoopGroup.makeIterator() {
            let shard = LoopShard(eventLoop: loop)
            shards[ObjectIdentifier(loop)] = shard
            loop.execute { shard.startSweeping(every: configuration.timerTick) }
        }
        self.shards = NIOLockedValueBox(shards)
    }

    /// Applies the limits of a re-read configuration (SIGHUP): `max_connections`,
    /// `max_connections_per_ip` and `max_rooms` change live; existing connections are kept.
    public func applyLimits(_ next: CometConfiguration) {
        admission.setLimits(maxTotal: next.maxConnections, maxPerIP: next.maxConnectionsPerIP)
        maxRoomsLimit.store(next.maxRooms, ordering: .relaxed)
    }

    /// Counts a member of `room` unless that would exceed `max_rooms`; a refusal is counted and logged.
    func joinRoom(_ room: String) -> Bool {
        let limit = maxRoomsLimit.load(ordering: .relaxed)
        if roomOnline.join(room, limit: limit) { return true }
        roomsRefused.increment()
        roomLimitLog.log(logger, "max_rooms reached: a connection asking for a new room was refused", metadata: ["limit": "\(limit)"])
        return false
    }

    // MARK: SessionAcceptor

    public func open(link: any ClientLink) -> any ClientSession {
        let shard = shard(for: link.eventLoop)
        let session = CometSession(comet: self, shard: shard, link: link)
        shard.add(session)
        let ip = link.remoteAddress?.ipAddress
        if let refused = admission.admit(ip) {
            // Closed once the transport has attached the session; the close is counted by reason.
            // Until then the session ignores what the client sends (a long-poll auth arrives in
            // the same turn of the loop).
            session.refused = true
            link.eventLoop.execute { link.close(refused) }
        } else {
            session.admittedIP = .some(ip)
        }
        return session
    }

    public func admitSocket(ip: String?) -> CloseReason? { admission.admitPending(ip) }

    public func releaseSocket(ip: String?) { admission.releasePending(ip) }

    public func recordRejected(transport: String, reason: CloseReason) {
        metrics.recordClose(reason, logger: logger)
    }

    private func shard(for loop: any EventLoop) -> LoopShard {
        shards.withLockedValue { shards in
            if let s = shards[ObjectIdentifier(loop)] { return s }
            let s = LoopShard(eventLoop: loop)
            shards[ObjectIdentifier(loop)] = s
            let tick = configuration.timerTick
            loop.execute { s.startSweeping(every: tick) }
            return s
        }
    }

    private var allShards: [LoopShard] { shards.withLockedValue { Array($0.values) } }

    func bucket(for key: String) -> KeyBucket {
        buckets[Int(KeyBucket.hash(key) % UInt32(buckets.count))]
    }

    /// Number of authenticated connections.
    public var connectionCount: Int { buckets.reduce(0) { $0 + $1.count } }

    /// Number of distinct client IP addresses.
    public var ipCount: Int { ips.distinct }

    // MARK: CometPusher

    public func push(keys: [String], operation: Int32, unit: PushUnit) async throws {
        try await push([KeyPush(keys: keys, operation: operation, unit: unit)])
    }

    /// Pushes by key, one or a batch, in one hop per event loop: each loop writes its connections'
    /// share of every push (a push to more than ``LoopShard/sliceSize`` connections there in slices).
    public func push(_ batch: [KeyPush]) async throws {
        struct Work {
            var targets: [CometSession]
            var operation: Int32
            var payload: PushPayload
        }
        var byShard: [ObjectIdentifier: (shard: LoopShard, work: [Work])] = [:]
        for item in batch {
            guard let unit = deduplicator.admit(item.unit) else { continue }
            let payload = PushPayload(unit, kind: .user)
            // The push's connections by loop: one work item (one framing) per loop it reaches.
            var here: [ObjectIdentifier: (shard: LoopShard, targets: [CometSession])] = [:]
            for key in item.keys {
                guard let session = bucket(for: key).get(key) else { continue }
                here[ObjectIdentifier(session.shard), default: (session.shard, [])].targets.append(session)
            }
            for (id, part) in here {
                byShard[id, default: (part.shard, [])].work.append(Work(targets: part.targets, operation: item.operation, payload: payload))
            }
        }
        let allocator = self.allocator
        let futures = byShard.values.map { entry in
            entry.shard.eventLoop.flatSubmit {
                var delivered = 0
                var dropped = 0
                var slow: [EventLoopFuture<(Int, Int)>] = []
                for work in entry.work {
                    let packets = max(1, work.payload.count)
                    if work.targets.count <= LoopShard.sliceSize {
                        let (d, x) = entry.shard.deliver(
                            to: work.targets, operation: work.operation, payload: work.payload, allocator: allocator)
                        delivered += d * packets
                        dropped += x * packets
                    } else {
                        slow.append(
                            entry.shard.deliverInSlices(
                                to: work.targets, operation: work.operation, payload: work.payload, allocator: allocator
                            )
                            .map { ($0.0 * packets, $0.1 * packets) })
                    }
                }
                let now = (delivered, dropped)
                guard !slow.isEmpty else { return entry.shard.eventLoop.makeSucceededFuture(now) }
                return EventLoopFuture.whenAllSucceed(slow, on: entry.shard.eventLoop).map { parts in
                    parts.reduce(now) { ($0.0 + $1.0, $0.1 + $1.1) }
                }
            }
        }
        for f in futures {
            let (d, x) = try await f.get()
            metrics.delivered(d)
            metrics.dropped(x)
        }
    }

    public func broadcast(operation: Int32, unit: PushUnit, speed: Int32) async throws {
        guard let unit = deduplicator.admit(unit) else { return }
        let payload = PushPayload(unit, kind: .broadcast)
        let shards = allShards
        guard speed > 0 else {
            try await onEachShard(shards, messages: payload.count) { shard in
                shard.deliverInSlices(to: shard.sessions, operation: operation, payload: payload, allocator: self.allocator)
            }
            return
        }
        // Paced: each loop delivers its share of `speed` connections per second, in 100 ms slices;
        // the call returns when every loop is through.
        let perSlice = max(1, Int(speed) / shards.count / 10)
        try await onEachShard(shards, messages: payload.count) { shard in
            let promise = shard.eventLoop.makePromise(of: (Int, Int).self)
            self.pacedBroadcast(
                shard: shard, targets: shard.sessions[...], perSlice: perSlice, operation: operation, payload: payload,
                done: (0, 0, promise))
            return promise.futureResult
        }
    }

    private func pacedBroadcast(
        shard: LoopShard, targets: ArraySlice<CometSession>, perSlice: Int, operation: Int32, payload: PushPayload,
        done: (delivered: Int, dropped: Int, promise: EventLoopPromise<(Int, Int)>)
    ) {
        let now = targets.prefix(perSlice)
        let (delivered, dropped) = shard.deliver(to: Array(now), operation: operation, payload: payload, allocator: allocator)
        let total = (done.delivered + delivered, done.dropped + dropped, done.promise)
        let rest = targets.dropFirst(perSlice)
        guard !rest.isEmpty else {
            done.promise.succeed((total.0, total.1))
            return
        }
        let next = shard.eventLoop.scheduleTask(in: .milliseconds(100)) {
            self.pacedBroadcast(shard: shard, targets: rest, perSlice: perSlice, operation: operation, payload: payload, done: total)
        }
        // A loop shutting down cancels the slice: the broadcast did not finish (not acknowledged).
        next.futureResult.whenFailure { done.promise.fail($0) }
    }

    public func broadcastRoom(_ room: String, unit: PushUnit) async throws {
        guard let unit = deduplicator.admit(unit) else { return }
        let payload = PushPayload(unit, kind: .room)
        try await onEachShard(allShards, messages: payload.count) { shard in
            shard.deliverToRoom(room, payload: payload, allocator: self.allocator)
        }
    }

    public func rooms() async throws -> [String] {
        Array(roomOnline.localCounts().keys)
    }

    /// Runs `body` on each shard's event loop (where it may finish later, in slices) and waits for
    /// all; counts deliveries and drops in messages: `body` answers in connections, each written
    /// (or dropped) the unit's `messages` packets at once.
    private func onEachShard(
        _ shards: [LoopShard], messages: Int, _ body: @escaping @Sendable (LoopShard) -> EventLoopFuture<(Int, Int)>
    ) async throws {
        let futures = shards.map { shard in shard.eventLoop.flatSubmit { body(shard) } }
        for f in futures {
            let (d, x) = try await f.get()
            metrics.delivered(d * max(1, messages))
            metrics.dropped(x * max(1, messages))
        }
    }

    // MARK: Calls to logic

    /// Waits (at most `timeout`) for the disconnect and heartbeat reports still on their way to
    /// logic; a comet shutting down calls it after its drain, before closing its logic client.
    public func logicCallsFinished(timeout: Duration) async {
        await pendingCalls.finished(timeout: timeout)
    }

    func logicDisconnect(mid: Int64, key: String) {
        if let localLogic, localLogic.disconnectNow(mid: mid, key: key, server: serverID) != nil { return }
        let logic = self.logic, server = serverID, logger = self.logger, log = logicCallLog
        pendingCalls.run {
            do { _ = try await logic.disconnect(mid: mid, key: key, server: server) } catch {
                log.log(logger, "logic disconnect failed", metadata: ["connection.key": "\(key)", "error": "\(error)"])
            }
        }
    }

    func logicHeartbeat(mid: Int64, key: String) {
        let logic = self.logic, server = serverID, logger = self.logger, log = logicCallLog
        pendingCalls.run {
            do { try await logic.heartbeat(mid: mid, key: key, server: server) } catch {
                log.log(logger, "logic heartbeat failed", metadata: ["connection.key": "\(key)", "error": "\(error)"])
            }
        }
    }

    /// Forwards an upstream message to logic; `done` runs once the call ended.
    func logicReceive(mid: Int64, packet: Packet, done: @escaping @Sendable () -> Void) {
        let logic = self.logic, logger = self.logger
        Task {
            do { try await logic.receive(mid: mid, packet: packet) } catch {
                logger.debug("logic receive failed", metadata: ["error": "\(error)"])
            }
            done()
        }
    }

    func randomLogicHeartbeatGap() -> TimeAmount {
        let lo = configuration.logicHeartbeatMin.nanoseconds
        let hi = max(lo, configuration.logicHeartbeatMax.nanoseconds)
        return .nanoseconds(lo == hi ? lo : Int64.random(in: lo..<hi))
    }

    // MARK: Service

    /// Reports room online counts to logic periodically until shutdown.
    public func run() async throws {
        let interval = configuration.onlineReportInterval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.reportOnline()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Sends this comet's room counts to logic and stores the global counts it returns.
    public func reportOnline() async {
        do {
            let global = try await logic.renewOnline(server: serverID, roomCount: roomOnline.localCounts())
            roomOnline.setGlobal(global)
        } catch {
            logger.warning("renewing room online counts failed", metadata: ["error": "\(error)"])
        }
    }

    /// Closes every connection (after transports stopped accepting) and stops the timers. Each
    /// client gets op 6 first. With a `window`, the closes are spread evenly over it in 100 ms
    /// slices, so clients do not all reconnect in one wave.
    public func closeAll(over window: Duration = .zero) async {
        let shards = allShards
        let slices = window > .zero ? max(1, Int(window / .milliseconds(100))) : 1
        for slice in 0..<slices {
            let remaining = slices - slice
            var stillOpen = 0
            for shard in shards {
                stillOpen +=
                    (try? await shard.eventLoop.submit {
                        if slice == 0 { shard.stopSweeping() }
                        let open = shard.sessions.filter { !$0.isClosing }
                        let share = (open.count + remaining - 1) / remaining
                        for session in open.prefix(share) { session.closeForShutdown() }
                        return open.count - share
                    }.get()) ?? 0
            }
            if stillOpen == 0 { break }
            if remaining > 1 { try? await Task.sleep(for: window / slices) }
        }
    }
}
