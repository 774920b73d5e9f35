import DequeModule
import HeraldCore
import HeraldProtocol
import Logging
import Metrics

/// Everything the job sends to one comet: a bounded queue and a window of calls in flight, so a
/// slow or failing comet is retried on its own without holding the other comets back.
///
/// Messages are queued by order key (``PushTarget/orderKey``): one call per order key is in flight
/// at a time, so a user's pushes and a room's messages arrive in the order they were consumed,
/// while different keys and rooms go out concurrently (up to `cometInFlight`). Messages that queue
/// behind an in-flight call for the same target are merged into one batch (no timer: light traffic
/// is never held back, heavy traffic is merged). A call the comet does not accept is retried with
/// exponential backoff until it does, or until the comet leaves the directory (its clients are gone
/// and reconnect elsewhere), which completes everything queued for it.
actor CometLane {
    struct Item {
        var target: PushTarget
        var unit: PushUnit
        var progress: [DeliveryProgress]
    }

    /// Where the lane checks, after a failure, whether its comet still exists (and under which client).
    typealias Lookup = @Sendable (_ server: CometID) async -> (any CometPusher)?

    let server: CometID
    private var pusher: any CometPusher
    private let configuration: JobConfiguration
    private let lookup: Lookup
    private let metrics: JobMetrics
    private let logger: Logger

    private var queues: [String: Deque<Item>] = [:]
    /// Order keys with queued items and no call in flight, in the order they became ready.
    private var ready = Deque<String>()
    /// Order keys with a call in flight, and how many queue messages each call carries.
    private var inFlight: [String: Int] = [:]
    private var queuedBytes = 0
    /// Calls running (each for one order key, or a batch of pushes by key for several).
    private var calls = 0
    /// Calls done whose acknowledgements are still running (the lane is not idle until they ran).
    private var finishing = 0
    private var spaceWaiters: [CheckedContinuation<Void, Never>] = []
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private(set) var retired = false
    private var abandoned = false

    init(
        server: CometID, pusher: any CometPusher, configuration: JobConfiguration, lookup: @escaping Lookup, metrics: JobMetrics,
        logger: Logger
    ) {
        self.server = server
        self.pusher = pusher
        self.configuration = configuration
        self.lookup = lookup
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "comet.server"] = "\(server)"
        self.logger = logger
    }

    /// Uses `pusher` for the calls from now on (the comet re-registered at another address).
    func replacePusher(_ pusher: any CometPusher) { self.pusher = pusher }

    /// Queues messages for this comet; suspends while the lane holds `cometQueueBytes`. Returns
    /// false, leaving the items untouched, when the lane was retired: its comet left the directory,
    /// and one that registers again under the same id gets a new lane. After ``abandon()`` the
    /// items are dropped unacknowledged.
    func enqueue(_ items: [Item]) async -> Bool {
        while queuedBytes >= configuration.cometQueueBytes, !retired, !abandoned {
            await withCheckedContinuation { spaceWaiters.append($0) }
        }
        if retired { return false }
        if abandoned { return true }
        for item in items { add(item) }
        pump()
        return true
    }

    func enqueue(_ item: Item) async -> Bool { await enqueue([item]) }

    private func add(_ item: Item) {
        let key = item.target.orderKey
        queuedBytes += item.unit.byteCount
        var queue = queues.removeValue(forKey: key) ?? Deque()
        if queue.isEmpty, inFlight[key] == nil { ready.append(key) }
        if var last = queue.last, last.target == item.target, item.target.merges,
            last.unit.byteCount + item.unit.byteCount <= configuration.roomBatchBytes
        {
            queue.removeLast()
            last.unit.append(item.unit)
            last.progress += item.progress
            queue.append(last)
        } else {
            queue.append(item)
        }
        queues[key] = queue
    }

    /// The comet left the directory: what is queued and what is in flight is done (its clients are gone).
    func retire() async {
        guard !retired else { return }
        retired = true
        let items = queues.values.flatMap { $0 }
        queues = [:]
        ready = []
        queuedBytes = 0
        resumeSpaceWaiters()
        metrics.cometGone.increment(by: Int64(items.reduce(0) { $0 + $1.progress.count }))
        finishing += 1
        for item in items { await finish(item) }
        finishing -= 1
        checkIdle()
    }

    /// Shutdown past its drain timeout: nothing more is sent and nothing left is acknowledged.
    func abandon() -> Int {
        guard !abandoned else { return 0 }
        abandoned = true
        let left = queues.values.reduce(0) { $0 + $1.reduce(0) { $0 + $1.progress.count } } + inFlight.values.reduce(0, +)
        queues = [:]
        ready = []
        queuedBytes = 0
        resumeSpaceWaiters()
        let waiters = idleWaiters
        idleWaiters = []
        for w in waiters { w.resume() }
        return left
    }

    /// Returns once nothing is queued or in flight (or the lane was abandoned).
    func waitUntilIdle() async {
        guard !isIdle, !abandoned else { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    var isIdle: Bool { queues.isEmpty && inFlight.isEmpty && finishing == 0 }

    /// Starts calls while fewer than `cometInFlight` are running. Pushes by key whose order keys
    /// are ready one after the other travel as one call (``CometPusher/push(_:)``), up to
    /// `roomBatchBytes` and ``maxBatch``: a backlog of pushes for many users costs one call.
    private func pump() {
        while calls < configuration.cometInFlight, let key = ready.popFirst() {
            guard let first = takeHead(key) else { continue }
            var batch = [(key: key, item: first)]
            if case .keys = first.target {
                var bytes = Self.callBytes(first)
                var origins = Set(first.unit.identities.compactMap { $0?.origin })
                while batch.count < Self.maxBatch, let next = ready.first, let head = queues[next]?.first, case .keys = head.target {
                    let cost = Self.callBytes(head)
                    // Usually none: a logic process's messages share one origin.
                    var added: [String] = []
                    for case let id? in head.unit.identities where !origins.contains(id.origin) && !added.contains(id.origin) {
                        added.append(id.origin)
                    }
                    guard bytes + cost <= configuration.roomBatchBytes, origins.count + added.count <= Self.maxOrigins,
                        let item = takeHead(next)
                    else { break }
                    ready.removeFirst()
                    bytes += cost
                    origins.formUnion(added)
                    batch.append((next, item))
                }
            }
            calls += 1
            let call = batch
            Task { await self.send(call) }
        }
        if queuedBytes < configuration.cometQueueBytes { resumeSpaceWaiters() }
    }

    /// Most pushes by key in one call.
    static let maxBatch = 256
    /// Most message origins (logic processes) in one call: what a comet accepts in one request.
    static let maxOrigins = 16

    /// What an item adds to a call: its packets, its keys and their framing, its identities.
    private static func callBytes(_ item: Item) -> Int {
        var bytes = item.unit.byteCount + 48 * item.unit.identities.count
        if case .keys(let keys, _) = item.target { bytes += keys.reduce(0) { $0 + $1.utf8.count + 4 } }
        return bytes
    }

    /// Removes the first queued item of `key` and marks the key in flight.
    private func takeHead(_ key: String) -> Item? {
        guard var queue = queues.removeValue(forKey: key), let item = queue.popFirst() else { return nil }
        if !queue.isEmpty { queues[key] = queue }
        queuedBytes -= item.unit.byteCount
        inFlight[key] = item.progress.count
        return item
    }

    private func send(_ batch: [(key: String, item: Item)]) async {
        var delay = configuration.retryBackoff
        var delivered = false
        let messages = batch.reduce(0) { $0 + $1.item.progress.count }
        while !retired, !abandoned {
            do {
                try await call(pusher, batch)
                delivered = true
                break
            } catch let refusal as PushRefused {
                // Retrying cannot change this answer: drop it for this comet rather than hold
                // everything behind it forever.
                metrics.refused.increment(by: Int64(messages))
                metrics.failureLog.log(
                    logger, "a comet refused a push for good; dropped for that comet (counted)", metadata: ["error": "\(refusal)"])
                delivered = true
                break
            } catch {
                metrics.pushFailed.increment()
                metrics.failureLog.log(logger, "a comet did not accept a push; retrying it with backoff", metadata: ["error": "\(error)"])
            }
            guard let current = await lookup(server) else {
                await retire()
                break
            }
            pusher = current
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, configuration.retryBackoffMax)
        }
        // The order keys are free again before the acknowledgements run: the next batch for each
        // goes out at once (what merged behind this call should not wait for the queue).
        calls -= 1
        for (key, _) in batch {
            inFlight[key] = nil
            if !retired, !abandoned, queues[key] != nil { ready.append(key) }
        }
        pump()
        if delivered || retired {
            finishing += 1
            for (_, item) in batch { await finish(item) }
            finishing -= 1
        }
        checkIdle()
    }

    private func call(_ pusher: any CometPusher, _ batch: [(key: String, item: Item)]) async throws {
        guard batch.count > 1 else { return try await call(pusher, batch[0].item) }
        try await pusher.push(
            batch.map { entry in
                guard case .keys(let keys, let operation) = entry.item.target else { preconditionFailure("only pushes by key are batched") }
                return KeyPush(keys: keys, operation: operation, unit: entry.item.unit)
            })
    }

    private func call(_ pusher: any CometPusher, _ item: Item) async throws {
        switch item.target {
        case .keys(let keys, let operation):
            try await pusher.push(keys: keys, operation: operation, unit: item.unit)
        case .room(let room):
            metrics.roomBatchBytes.record(item.unit.byteCount)
            try await pusher.broadcastRoom(room, unit: item.unit)
        case .broadcast(let operation, let speed):
            try await pusher.broadcast(operation: operation, unit: item.unit, speed: speed)
        }
    }

    private func finish(_ item: Item) async {
        for progress in item.progress { await progress.finishOne() }
    }

    private func resumeSpaceWaiters() {
        let waiters = spaceWaiters
        spaceWaiters = []
        for w in waiters { w.resume() }
    }

    private func checkIdle() {
        guard isIdle else { return }
        let waiters = idleWaiters
        idleWaiters = []
        for w in waiters { w.resume() }
    }
}
