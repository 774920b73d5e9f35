import CRdKafka
import Foundation
import HeraldCore
import HeraldPluginSupport
import Logging

/// Produces to one topic and resumes each publisher when the broker acknowledged its message
/// (or when librdkafka gave up: `message.timeout.ms`, so a publish never hangs).
final class KafkaProducer: Sendable {
    /// Carries one publisher's continuation through librdkafka as the message's opaque pointer.
    private final class Pending {
        let continuation: CheckedContinuation<Void, any Error>
        init(_ continuation: CheckedContinuation<Void, any Error>) { self.continuation = continuation }
    }

    let topicName: String
    private let handle: KafkaHandle
    private nonisolated(unsafe) let topic: OpaquePointer
    private let poller: PollThread

    init(properties: [String: String], topic: String, logger: Logger) throws(QueueError) {
        let callbacks = KafkaCallbacks(logger: logger)
        callbacks.onDelivery = { message in
            guard let opaque = message.pointee._private else { return }
            let pending = Unmanaged<Pending>.fromOpaque(opaque).takeRetainedValue()
            let error = message.pointee.err
            if error == RD_KAFKA_RESP_ERR_NO_ERROR {
                pending.continuation.resume()
            } else {
                pending.continuation.resume(throwing: QueueError("kafka did not accept the message: \(KafkaHandle.describe(error))"))
            }
        }
        let handle = try KafkaHandle(kind: RD_KAFKA_PRODUCER, properties: properties, callbacks: callbacks)
        guard let topicHandle = rd_kafka_topic_new(handle.pointer, topic, nil) else {
            rd_kafka_destroy(handle.pointer)
            throw QueueError("kafka topic \(topic): \(KafkaHandle.describe(rd_kafka_last_error()))")
        }
        self.handle = handle
        self.topic = topicHandle
        self.topicName = topic
        let topicToDestroy = TopicBox(topicHandle)
        self.poller = PollThread(
            name: "herald-kafka-producer",
            iterate: { _ = rd_kafka_poll(handle.pointer, 50) },
            finish: {
                // Fail whatever is still queued or in flight, so every publisher gets an answer.
                _ = rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
                _ = rd_kafka_poll(handle.pointer, 0)
                rd_kafka_topic_destroy(topicToDestroy.pointer)
                rd_kafka_destroy(handle.pointer)
            }
        )
    }

    /// Sends `value` with partitioning key `key`; returns once the broker acknowledged it.
    func produce(key: [UInt8], value: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            guard !poller.isStopping else {
                continuation.resume(throwing: QueueError("kafka producer is shut down"))
                return
            }
            let opaque = Unmanaged.passRetained(Pending(continuation)).toOpaque()
            let result = value.withUnsafeBytes { v in
                key.withUnsafeBytes { k in
                    rd_kafka_produce(
                        topic, -1, RD_KAFKA_MSG_F_COPY,
                        UnsafeMutableRawPointer(mutating: v.baseAddress), v.count,
                        k.baseAddress, k.count,
                        opaque
                    )
                }
            }
            if result != 0 {
                Unmanaged<Pending>.fromOpaque(opaque).release()
                let error = rd_kafka_last_error()
                if error == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                    // librdkafka holds queue.buffering.max.messages not yet sent: the broker is behind.
                    continuation.resume(
                        throwing: QueueError.full("kafka publish queue is full: \(KafkaHandle.describe(error))", retryAfter: .seconds(1)))
                } else {
                    continuation.resume(throwing: QueueError("kafka publish failed: \(KafkaHandle.describe(error))"))
                }
            }
        }
    }

    /// Waits up to `timeout` for queued messages to be acknowledged, then fails the rest and closes.
    func shutdown(flushTimeout: Duration) async {
        let handle = self.handle
        let ms = Int32(clamping: flushTimeout.nanoseconds / 1_000_000)
        // rd_kafka_flush blocks; the poll thread keeps serving delivery reports meanwhile.
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                _ = rd_kafka_flush(handle.pointer, ms)
                c.resume()
            }
            thread.start()
        }
        await poller.stop()
    }
}

/// A topic handle passed to the poll thread that destroys it.
private final class TopicBox: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}
