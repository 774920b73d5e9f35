import Foundation
public import HeraldCore
public import HeraldProtocol
public import Logging
import Metrics
public import NIOCore
public import ServiceLifecycle

/// The job role: consumes PushMsg from the queue and hands each to the comets that hold its
/// targets, merging room messages into batches. A message is acknowledged only after the comets
/// accepted it, so backends that redeliver give at-least-once delivery.
public final class Job: Service {
    public let configuration: JobConfiguration
    let queue: any QueueBackend
    let comets: any CometDirectory
    let logger: Logger
    private let consumed = Counter(label: "herald_queue_consumed_total")
    /// Bytes of each merged room batch sent to the comets.
    private let roomBatchBytes = Recorder(label: "herald_room_batch_bytes", aggregate: true)
    private let publishToDeliver = Timer(label: "herald_publish_to_deliver_seconds", preferredDisplayUnit: .seconds)
    private let unknownServer = Counter(label: "herald_push_dropped_total", dimensions: [("reason", "unknown_server")])
    private let pushFailed = Counter(label: "herald_push_failed_total")

    public init(configuration: JobConfiguration, queue: any QueueBackend, comets: any CometDirectory, logger: Logger) {
        self.configuration = configuration
        self.queue = queue
        self.comets = comets
        self.logger = logger
    }

    public func run() async throws {
        let consumer = try await queue.makeConsumer()
        let comets = self.comets
        let logger = self.logger
        let failed = pushFailed
        let batchBytes = roomBatchBytes
        let latency = publishToDeliver
        let batcher = RoomBatcher(
            maxBatchBytes: configuration.roomBatchBytes,
            maxQueuedBytes: configuration.roomQueueBytes,
            flight: { room, batch in
                batchBytes.record(batch.readableBytes)
                let packet = Packet(version: 1, operation: .raw, sequence: 0, body: batch)
                for (server, comet) in await comets.comets() {
                    do { try await comet.broadcastRoom(room: room, packet: packet) } catch {
                        failed.increment()
                        logger.warning("room push failed", metadata: ["room.id": "\(room)", "comet.server": "\(server)", "error": "\(error)"])
                    }
                }
            },
            acknowledge: { deliveries in
                for d in deliveries {
                    Self.recordLatency(d.message, latency)
                    do { try await consumer.acknowledge(d) } catch {
                        logger.warning("acknowledge failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        )
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                while let delivery = try await consumer.next() {
                    consumed.increment()
                    await process(delivery, consumer: consumer, batcher: batcher)
                }
                await batcher.waitUntilIdle()
                // Waits for the consumer to finish closing (a committing backend commits here).
                await consumer.close()
            } onGracefulShutdown: {
                Task { await consumer.close() }
            }
        } onCancel: {
            Task { await consumer.close() }
        }
    }

    private func process(_ delivery: QueueDelivery, consumer: any QueueConsumer, batcher: RoomBatcher) async {
        let msg = delivery.message
        var inner = ByteBufferAllocator().buffer(capacity: Packet.headerLength + msg.msg.count)
        inner.writePacketHeader(bodyLength: msg.msg.count, version: 1, operation: Operation(msg.operation), sequence: 0)
        inner.writeBytes(msg.msg)
        switch msg.type {
        case .room:
            await batcher.enqueue(room: msg.room, packet: inner, delivery: delivery)
            return
        case .push:
            let packet = Packet(version: 1, operation: .raw, sequence: 0, body: inner)
            if let comet = await comets.comets()[msg.server] {
                do { try await comet.pushMsg(keys: msg.keys, operation: msg.operation, packet: packet) } catch {
                    pushFailed.increment()
                    logger.warning("push failed", metadata: ["comet.server": "\(msg.server)", "error": "\(error)"])
                }
            } else {
                unknownServer.increment()
                logger.warning("push for an unknown comet dropped", metadata: ["comet.server": "\(msg.server)"])
            }
        case .broadcast:
            let packet = Packet(version: 1, operation: .raw, sequence: 0, body: inner)
            let all = await comets.comets()
            let speed = all.isEmpty ? 0 : msg.speed / Int32(all.count)
            for (server, comet) in all {
                do { try await comet.broadcast(operation: msg.operation, packet: packet, speed: speed) } catch {
                    pushFailed.increment()
                    logger.warning("broadcast failed", metadata: ["comet.server": "\(server)", "error": "\(error)"])
                }
            }
        case .UNRECOGNIZED(let t):
            logger.warning("message of unknown type skipped", metadata: ["push.type": "\(t)"])
        }
        Self.recordLatency(msg, publishToDeliver)
        do { try await consumer.acknowledge(delivery) } catch {
            logger.warning("acknowledge failed", metadata: ["error": "\(error)"])
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
