public import HeraldCore
import NIOConcurrencyHelpers

/// Consumes several queue consumers as one: a task per source pulls its deliveries into one
/// bounded buffer; acknowledgements go back to the source a delivery came from. Sources can be
/// added and removed while running (the migration queue does, on a phase change).
///
/// `observe` sees every delivery first (the migration queue's comparator).
public final class ConsumerFanIn: QueueConsumer {
    private struct Source {
        var consumer: any QueueConsumer
        var pump: Task<Void, Never>
    }

    private struct State {
        var sources: [String: Source] = [:]
        /// Deliveries handed out, with the consumer to acknowledge them to (also after the source
        /// was removed: a late acknowledgement still reaches it).
        var inFlight: [UInt64: (consumer: any QueueConsumer, delivery: QueueDelivery)] = [:]
        var nextPosition: UInt64 = 0
        var closed = false
    }

    private let buffer: DeliveryBuffer
    private let state = NIOLockedValueBox(State())
    private let observe: @Sendable (QueueDelivery, String) -> Void

    public init(capacity: Int = 4096, observe: @escaping @Sendable (QueueDelivery, String) -> Void = { _, _ in }) {
        self.buffer = DeliveryBuffer(capacity: capacity)
        self.observe = observe
    }

    /// Source names currently consumed.
    public var sourceNames: [String] { state.withLockedValue { $0.sources.keys.sorted() } }

    /// Starts consuming `consumer` under `name` (replacing nothing: adding a name twice is ignored).
    public func add(_ name: String, _ consumer: any QueueConsumer) {
        let buffer = self.buffer
        let observe = self.observe
        state.withLockedValue { s in
            guard !s.closed, s.sources[name] == nil else { return }
            let pump = Task { [weak self] in
                while let delivery = try? await consumer.next() {
                    guard let self else { return }
                    observe(delivery, name)
                    while buffer.isFull && !buffer.isClosed { try? await Task.sleep(for: .milliseconds(2)) }
                    let position = self.state.withLockedValue { s -> UInt64 in
                        s.nextPosition += 1
                        s.inFlight[s.nextPosition] = (consumer, delivery)
                        return s.nextPosition
                    }
                    var wrapped = delivery
                    wrapped.position = position
                    if !buffer.offer(wrapped) { return }
                }
            }
            s.sources[name] = Source(consumer: consumer, pump: pump)
        }
    }

    /// Stops consuming `name`: closes its consumer (which commits what was acknowledged) and
    /// waits for its pump. Deliveries of it already handed out can still be acknowledged until then.
    public func remove(_ name: String) async {
        guard let source = state.withLockedValue({ $0.sources[name] }) else { return }
        await source.consumer.close()
        await source.pump.value
        state.withLockedValue { _ = $0.sources.removeValue(forKey: name) }
    }

    public func next() async throws -> QueueDelivery? { await buffer.next() }

    public func nextBatch(max: Int) async throws -> [QueueDelivery] { await buffer.nextBatch(max: max) }

    public func acknowledge(_ delivery: QueueDelivery) async throws {
        guard let (consumer, original) = state.withLockedValue({ $0.inFlight.removeValue(forKey: delivery.position) }) else { return }
        try await consumer.acknowledge(original)
    }

    /// Stops every source (each hands over what it still holds: a closing memory or zeromq
    /// consumer drains), then lets the job take what is buffered before ``next()`` returns nil. A
    /// job that stops reading is given 10 s before the rest is dropped unacknowledged.
    public func close() async {
        let sources = state.withLockedValue { s in
            s.closed = true
            return s.sources.keys.sorted()
        }
        let buffer = self.buffer
        let giveUp = Task {
            try await Task.sleep(for: .seconds(10))
            buffer.close()
        }
        for name in sources { await remove(name) }
        giveUp.cancel()
        buffer.finish()
    }
}
