import CRdKafka
import Foundation
import HeraldCore
import HeraldPluginSupport
import HeraldProtocol
import Logging
import Metrics
import NIOConcurrencyHelpers

/// The job side of the kafka backend: a consumer-group member that hands PushMsgs to the job and
/// stores an offset only once every message before it was acknowledged (at-least-once).
///
/// One dedicated thread polls librdkafka (fetches, rebalances, logs); stored offsets are committed
/// by librdkafka every `commit_interval`, on every revocation, and on close. After a rebalance the
/// new owner of a partition starts at its last commit, so messages in flight at that moment are
/// delivered twice; they are counted in `herald_queue_redelivered_total` by a member that hands
/// an offset to its job again.
final class KafkaConsumer: QueueConsumer {
    private struct State {
        var offsets = PartitionOffsets()
        var handedOut = 0
        var closed = false
        var drained: CheckedContinuation<Void, Never>?
    }

    private let topicName: String
    private let handle: KafkaHandle
    private let state = NIOLockedValueBox(State())
    private let buffer: DeliveryBuffer
    /// Guards the handle against use after destruction (acknowledgements may come late).
    private let handleAlive = NIOLockedValueBox(true)
    private let closeDrain: Duration
    private let logger: Logger
    private let malformed = Counter(label: "herald_queue_malformed_total", dimensions: [("queue", "kafka")])
    private let redelivered = Counter(label: "herald_queue_redelivered_total", dimensions: [("queue", "kafka")])
    private let rebalances = Counter(label: "herald_queue_rebalances_total", dimensions: [("queue", "kafka")])
    private let fetchErrors = Counter(label: "herald_queue_errors_total", dimensions: [("queue", "kafka"), ("side", "consume")])
    private let errorLog = RateLimitedLog(interval: .seconds(1))
    /// Messages on the broker this member has not yet taken, over its partitions (see ``lag()``).
    private let lagGauge = Gauge(label: "herald_queue_lag", dimensions: [("queue", "kafka")])
    /// When the poll thread last updated the lag gauge (touched on the poll thread only).
    private nonisolated(unsafe) var lagUpdated = ContinuousClock.now
    /// The partitions whose lag this member last reported (touched on the poll thread only): one
    /// it no longer owns is set to 0, its new owner reports it.
    private nonisolated(unsafe) var reportedPartitions: Set<Int32> = []
    private nonisolated(unsafe) var poller: PollThread?

    init(configuration: KafkaConfiguration, brokers: String, logger: Logger) throws(QueueError) {
        self.topicName = configuration.topic
        let handOut = WeakBox<KafkaConsumer>()
        self.buffer = DeliveryBuffer(capacity: configuration.maxBuffered) { handOut.value?.handedOut($0) }
        self.closeDrain = .seconds(5)
        self.logger = logger
        let callbacks = KafkaCallbacks(logger: logger)
        var properties = configuration.consumerProperties
        properties["bootstrap.servers"] = brokers
        // The rebalance callback is installed before the handle exists and reaches self through a box.
        let owner = WeakBox<KafkaConsumer>()
        callbacks.onRebalance = { handle, error, partitions in owner.value?.rebalance(handle, error, partitions) }
        handle = try KafkaHandle(kind: RD_KAFKA_CONSUMER, properties: properties, callbacks: callbacks)
        owner.value = self
        handOut.value = self
        let pointer = handle.pointer
        _ = rd_kafka_poll_set_consumer(pointer)
        let topics = rd_kafka_topic_partition_list_new(1)
        rd_kafka_topic_partition_list_add(topics, configuration.topic, -1)
        let subscribed = rd_kafka_subscribe(pointer, topics)
        rd_kafka_topic_partition_list_destroy(topics)
        guard subscribed == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_destroy(pointer)
            throw QueueError("kafka subscribe to \(configuration.topic): \(KafkaHandle.describe(subscribed))")
        }
        poller = PollThread(
            name: "herald-kafka-consumer",
            iterate: { [weak self] in self?.pollOnce() },
            finish: { [handleAlive, handle] in
                // Commits stored offsets and leaves the group (serving the final revocation).
                _ = rd_kafka_consumer_close(handle.pointer)
                // Offsets are stored under the lock only while the handle is alive: once this
                // flag is down nothing touches the handle, so it is destroyed outside the lock
                // (an acknowledgement, which may run on an event loop, never waits for the destroy).
                handleAlive.withLockedValue { $0 = false }
                rd_kafka_destroy(handle.pointer)
            }
        )
    }

    // MARK: QueueConsumer

    func next() async throws -> QueueDelivery? { await buffer.next() }

    func nextBatch(max: Int) async throws -> [QueueDelivery] { await buffer.nextBatch(max: max) }

    func acknowledge(_ delivery: QueueDelivery) async throws {
        let (commit, drained) = state.withLockedValue { s in
            let commit = s.offsets.acknowledge(partition: delivery.partition, offset: Int64(delivery.position))
            s.handedOut = max(0, s.handedOut - 1)
            var drained: CheckedContinuation<Void, Never>?
            if s.closed && s.handedOut == 0 {
                drained = s.drained
                s.drained = nil
            }
            return (commit, drained)
        }
        if let commit { store(partition: delivery.partition, offset: commit) }
        drained?.resume()
    }

    func close() async {
        state.withLockedValue { $0.closed = true }
        buffer.close()
        // Give the job a bounded time to finish what it holds, so its offsets are committed on close.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitUntilDrained() }
            group.addTask { try? await Task.sleep(for: self.closeDrain) }
            await group.next()
            group.cancelAll()
            self.state.withLockedValue { s in
                let d = s.drained
                s.drained = nil
                d?.resume()
            }
        }
        await poller?.stop()
    }

    // MARK: Poll thread

    private func handedOut(_ d: QueueDelivery) {
        let again = state.withLockedValue { s in
            s.handedOut += 1
            return s.offsets.handedOut(partition: d.partition, offset: Int64(d.position))
        }
        if again { redelivered.increment() }
    }

    private func waitUntilDrained() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { s in
                if s.handedOut == 0 { return true }
                s.drained = c
                return false
            }
            if done { c.resume() }
        }
    }

    /// Consumer lag: over the partitions assigned to this member, the broker's high watermark minus
    /// the position (the next offset this member will take), from librdkafka's cached watermarks (no
    /// broker round trip). Partitions without a known position yet are left out; nil without an
    /// assignment or once closed.
    func lag() -> Int64? {
        guard let lags = partitionLags(), !lags.isEmpty else { return nil }
        return lags.values.compactMap { $0 }.reduce(0, +)
    }

    /// Per assigned partition, the messages on the broker this member has not taken yet (nil for a
    /// partition whose position or watermark is not known yet); empty without an assignment, nil
    /// once closed or when librdkafka cannot say.
    func partitionLags() -> [Int32: Int64?]? {
        handleAlive.withLockedValue { alive -> [Int32: Int64?]? in
            guard alive else { return nil }
            var assigned: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
            guard rd_kafka_assignment(handle.pointer, &assigned) == RD_KAFKA_RESP_ERR_NO_ERROR, let list = assigned else { return nil }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            guard list.pointee.cnt > 0 else { return [:] }
            guard rd_kafka_position(handle.pointer, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
            var lags: [Int32: Int64?] = [:]
            for i in 0..<Int(list.pointee.cnt) {
                let entry = list.pointee.elems[i]
                var low: Int64 = 0
                var high: Int64 = 0
                guard entry.offset >= 0,
                    rd_kafka_get_watermark_offsets(handle.pointer, entry.topic, entry.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                    high >= entry.offset
                else {
                    lags[entry.partition] = .some(nil)
                    continue
                }
                lags[entry.partition] = high - entry.offset
            }
            return lags
        }
    }

    /// `herald_queue_lag` (the member's total) and `herald_queue_partition_lag` per partition: a
    /// partition whose lag is not known keeps its last figure, one no longer assigned reads 0.
    private func record(_ lags: [Int32: Int64?]) {
        lagGauge.record(lags.values.compactMap { $0 }.reduce(0, +))
        for case let (partition, lag?) in lags { partitionGauge(partition).record(lag) }
        for gone in reportedPartitions.subtracting(lags.keys) { partitionGauge(gone).record(0) }
        reportedPartitions = Set(lags.keys)
    }

    private func partitionGauge(_ partition: Int32) -> Gauge {
        Gauge(
            label: "herald_queue_partition_lag", dimensions: [("queue", "kafka"), ("topic", topicName), ("partition", String(partition))])
    }

    private func pollOnce() {
        if ContinuousClock.now - lagUpdated >= .seconds(1) {
            lagUpdated = .now
            if let lags = partitionLags() { record(lags) }
        }
        if buffer.isFull {
            usleep(2000)
            return
        }
        guard let message = rd_kafka_consumer_poll(handle.pointer, 100) else { return }
        defer { rd_kafka_message_destroy(message) }
        let m = message.pointee
        guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            fetchErrors.increment()
            errorLog.log(logger, "kafka consumer error: \(String(cString: rd_kafka_err2str(m.err)))")
            return
        }
        let bytes = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        guard let push = try? PushMsg(serializedBytes: bytes) else {
            // A poison message must not stop the partition: count it, log it, and move past it.
            malformed.increment()
            errorLog.log(
                logger, "kafka message is not a goim PushMsg; skipped",
                metadata: ["kafka.partition": "\(m.partition)", "kafka.offset": "\(m.offset)"])
            let commit = state.withLockedValue { s in
                s.offsets.received(partition: m.partition, offset: m.offset)
                return s.offsets.acknowledge(partition: m.partition, offset: m.offset)
            }
            if let commit { store(partition: m.partition, offset: commit) }
            return
        }
        let delivery = QueueDelivery(message: push, position: UInt64(m.offset), partition: m.partition)
        state.withLockedValue { $0.offsets.received(partition: m.partition, offset: m.offset) }
        buffer.offer(delivery)
    }

    private func rebalance(
        _ rk: OpaquePointer, _ error: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    ) {
        rebalances.increment()
        let list = partitions.pointee
        let ids = (0..<Int(list.cnt)).map { list.elems[$0].partition }
        if error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
            logger.info("kafka partitions assigned", metadata: ["kafka.partitions": "\(ids)"])
            _ = rd_kafka_assign(rk, partitions)
        } else {
            logger.info("kafka partitions revoked", metadata: ["kafka.partitions": "\(ids)"])
            // Commit what is finished before another member takes over; what is still in flight
            // will be consumed again by the new owner.
            _ = rd_kafka_commit(rk, nil, 0)
            state.withLockedValue { $0.offsets.revoke(ids) }
            buffer.removeAll { ids.contains($0.partition) }
            _ = rd_kafka_assign(rk, nil)
        }
    }

    private func store(partition: Int32, offset: Int64) {
        handleAlive.withLockedValue { alive in
            guard alive else { return }
            let list = rd_kafka_topic_partition_list_new(1)
            let entry = rd_kafka_topic_partition_list_add(list, topicName, partition)
            entry?.pointee.offset = offset
            _ = rd_kafka_offsets_store(handle.pointer, list)
            rd_kafka_topic_partition_list_destroy(list)
        }
    }
}

/// A weak reference that can be captured before the referent exists.
final class WeakBox<T: AnyObject>: @unchecked Sendable {
    weak var value: T?
}
