import Atomics
import Foundation
public import HeraldCore
import HeraldProtocol
public import Logging
import Metrics
import NIOCore
public import ServiceLifecycle

/// The job role: consumes PushMsg from the queue and hands each to the comets that hold its
/// targets, through one ``CometLane`` per comet.
///
/// A message is acknowledged only when every comet that must receive it accepted it — a comet
/// that fails is retried with backoff on its own lane — or left the directory (its clients are
/// gone). So a queue that redelivers gives at-least-once delivery, and the comets drop the copies
/// they already delivered (``MessageIdentity``). The job reads the comet directory before it
/// consumes, and reads it again before it gives up on a push for a comet it does not know.
public final class Job: Service {
    public let configuration: JobConfiguration
    let queue: any QueueBackend
    let comets: any CometDirectory
    let logger: Logger
    private let metrics = JobMetrics()
    private let acknowledgeLog = RateLimitedLog(interval: .seconds(10))

    public init(configuration: JobConfiguration, queue: any QueueBackend, comets: any CometDirectory, logger: Logger) {
        self.configuration = configuration
        self.queue = queue
        self.comets = comets
        self.logger = logger
    }

    public func run() async throws {
        let directory = comets
        await cancelWhenGracefulShutdown { await directory.ready() }
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        let consumer = try await queue.makeConsumer()
        let metrics = self.metrics
        let logger = self.logger
        let acknowledgeLog = self.acknowledgeLog
        let completed: @Sendable (QueueDelivery) async -> Void = { delivery in
            Self.recordLatency(delivery.message, metrics.publishToDeliver)
            do { try await consumer.acknowledge(delivery) } catch {
                acknowledgeLog.log(logger, "acknowledging a delivered message failed", metadata: ["error": "\(error)"])
            }
        }
        let lookup: CometLane.Lookup = { server in await directory.comets()[server] }
        let lanes = LaneSet()
        let drainTimeout = configuration.drainTimeout
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                while true {
                    let deliveries = try await consumer.nextBatch(max: Self.consumeBatch)
                    if deliveries.isEmpty { break }
                    metrics.consumed.increment(by: Int64(deliveries.count))
                    var all = await directory.comets()
                    for lane in lanes.removeAll(notIn: Set(all.keys)) { await lane.retire() }
                    // This batch's items by comet, in consumed order: one hand-over per lane.
                    var byComet: [CometID: [CometLane.Item]] = [:]
                    var order: [CometID] = []
                    for delivery in deliveries {
                        let msg = delivery.message
                        guard var target = PushTarget(msg) else {
                            logger.warning("message of unknown type skipped", metadata: ["push.type": "\(msg.type.rawValue)"])
                            await completed(delivery)
                            continue
                        }
                        let servers: [CometID]
                        switch target {
                        case .keys:
                            let server = CometID(msg.server)
                            if all[server] == nil { all = await directory.refreshedComets() }  // it may have just registered
                            guard all[server] != nil else {
                                metrics.unknownServer.increment()
                                metrics.failureLog.log(
                                    logger, "push for a comet that is not registered acknowledged (its clients are gone)",
                                    metadata: ["comet.server": "\(server)"])
                                await completed(delivery)
                                continue
                            }
                            servers = [server]
                        case .room:
                            servers = all.keys.sorted()
                        case .broadcast(let operation, let speed):
                            servers = all.keys.sorted()
                            if speed > 0 {
                                target = .broadcast(operation: operation, speed: max(1, speed / Int32(max(1, all.count))))
                            }
                        }
                        guard !servers.isEmpty else {
                            await completed(delivery)  // no comet, so no connection to deliver to
                            continue
                        }
                        let progress = DeliveryProgress(delivery, comets: servers.count, completed: completed)
                        let item = CometLane.Item(target: target, unit: PushUnit(message: msg), progress: [progress])
                        for id in servers {
                            if byComet[id] == nil { order.append(id) }
                            byComet[id, default: []].append(item)
                        }
                    }
                    for id in order {
                        let items = byComet[id]!
                        // A lane retires itself when its comet left the directory; a comet that
                        // registered again since gets a new one.
                        while true {
                            if let lane = lanes[id], await lane.enqueue(items) { break }
                            var known = all[id]
                            if known == nil { known = await directory.refreshedComets()[id] }
                            guard let pusher = known else {
                                // It left while this batch was sorted: its clients are gone.
                                for item in items { for progress in item.progress { await progress.finishOne() } }
                                break
                            }
                            lanes.install(
                                CometLane(
                                    server: id, pusher: pusher, configuration: configuration, lookup: lookup, metrics: metrics,
                                    logger: logger), for: id)
                        }
                    }
                }
                await drain(lanes.all)
                // Waits for the consumer to finish closing (a committing backend commits here).
                await consumer.close()
            } onGracefulShutdown: {
                Task { await consumer.close() }
                // The drain's deadline runs from the start of the shutdown, also for a loop that
                // waits for room in a full lane: abandoning resumes it.
                Task {
                    try? await Task.sleep(for: drainTimeout)
                    await Self.abandon(lanes.all, metrics: metrics, logger: logger)
                }
            }
        } onCancel: {
            Task { await consumer.close() }
        }
    }

    /// Most deliveries taken from the queue at once.
    static let consumeBatch = 512

    /// Lets the lanes deliver what was consumed, for at most `drainTimeout`; then abandons the rest
    /// unacknowledged (counted and logged).
    private func drain(_ lanes: [CometLane]) async {
        let finished = ManagedAtomic(false)
        let timeout = configuration.drainTimeout
        let metrics = self.metrics
        let logger = self.logger
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for lane in lanes { await lane.waitUntilIdle() }
                finished.store(true, ordering: .releasing)
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                guard !finished.load(ordering: .acquiring) else { return }
                await Self.abandon(lanes, metrics: metrics, logger: logger)
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Stops every lane; what they still hold stays unacknowledged (counted and logged once).
    static func abandon(_ lanes: [CometLane], metrics: JobMetrics, logger: Logger) async {
        var left = 0
        for lane in lanes { left += await lane.abandon() }
        if left > 0 {
            metrics.abandoned.increment(by: Int64(left))
            logger.warning(
                "shutdown: deliveries not finished within drain_timeout were left unacknowledged", metadata: ["job.abandoned": "\(left)"])
        }
    }

    /// Publish (logic accepted it) to delivered (the comets took it), from `herald_published_at`.
    static func recordLatency(_ msg: PushMsg, _ timer: Timer) {
        guard msg.heraldPublishedAt > 0 else { return }
        let now = UInt64(max(0, Date().timeIntervalSince1970 * 1e9))
        guard now >= msg.heraldPublishedAt else { return }
        timer.recordNanoseconds(Int64(now - msg.heraldPublishedAt))
    }
}
