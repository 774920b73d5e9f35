import Atomics
import Foundation
import HeraldCore
import HeraldPluginSupport
import HeraldProtocol
import Logging
import Metrics
import NIOConcurrencyHelpers

/// The job side: reads the queue's bound PULL socket on its own thread and hands PushMsgs to the
/// job. Acknowledging only counts: ZeroMQ has no redelivery.
final class ZeroMQConsumer: QueueConsumer {
    private let buffer: DeliveryBuffer
    private let poller: PollThread
    private let released: @Sendable () -> Void
    private let releasedOnce = NIOLockedValueBox(false)

    init(
        socket: ZeroMQSocket,
        maxBuffered: Int,
        countGaps: Bool,
        lostTotal: ManagedAtomic<Int>,
        logger: Logger,
        released: @escaping @Sendable () -> Void
    ) {
        let buffer = DeliveryBuffer(capacity: maxBuffered)
        self.buffer = buffer
        self.released = released
        let malformed = Counter(label: "herald_queue_malformed_total", dimensions: [("queue", "zeromq")])
        let lost = Counter(label: "herald_queue_lost_total", dimensions: [("queue", "zeromq")])
        let errorLog = RateLimitedLog(interval: .seconds(1))
        let polled = PollState()
        poller = PollThread(
            name: "herald-zmq-pull",
            iterate: {
                if buffer.isFull {
                    usleep(2000)
                    return
                }
                guard let bytes = socket.receive() else { return }
                guard let message = try? PushMsg(serializedBytes: bytes) else {
                    malformed.increment()
                    errorLog.log(logger, "zeromq message is not a goim PushMsg; skipped")
                    return
                }
                if countGaps {
                    let overdue = polled.gaps.record(origin: message.heraldStream, seq: message.heraldStreamSeq)
                    if overdue > 0 {
                        lost.increment(by: Int64(overdue))
                        lostTotal.wrappingIncrement(by: Int(overdue), ordering: .relaxed)
                        errorLog.log(
                            logger, "zeromq: messages lost in transit (a job or logic restarted)", metadata: ["zeromq.lost": "\(overdue)"])
                    }
                }
                polled.received += 1
                buffer.offer(QueueDelivery(message: message, position: polled.received))
            },
            finish: {}
        )
    }

    func next() async throws -> QueueDelivery? { await buffer.next() }

    func nextBatch(max: Int) async throws -> [QueueDelivery] { await buffer.nextBatch(max: max) }

    func acknowledge(_ delivery: QueueDelivery) async throws {}

    /// Idempotent; every call returns only once the receiving thread stopped using the socket.
    /// What was received is still handed to the job (then ``next()`` returns nil): ZeroMQ cannot
    /// redeliver it, so a graceful stop delivers it.
    func close() async {
        await poller.stop()
        buffer.finish()
        let first = releasedOnce.withLockedValue { done in
            defer { done = true }
            return !done
        }
        if first { released() }
    }
}

/// State touched only by the polling thread.
private final class PollState: @unchecked Sendable {
    var gaps = SequenceGaps()
    /// Messages received so far (the deliveries' positions).
    var received: UInt64 = 0
}
