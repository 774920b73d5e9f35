import Atomics
import CZeroMQ
import Foundation
public import HeraldCore
public import HeraldProtocol
public import Logging
import Metrics
import NIOConcurrencyHelpers

/// The `zeromq` queue plugin: logic PUSHes goim's PushMsg to job processes that bind PULL sockets.
///
/// Topology: PUSH/PULL, because every message must be handled by exactly one job (like a Kafka
/// consumer group), not by all of them (PUB/SUB). With several job endpoints, logic picks the
/// endpoint by the message's partitioning key, so order per key holds and the load is shared.
///
/// Guarantees: not durable (ZeroMQ keeps no log: what is queued inside a job that stops is lost,
/// and counted as a gap in the publishers' sequence numbers), ordered per key, no redelivery.
public final class ZeroMQQueue: QueueBackend {
    public let name: String
    public let configuration: ZeroMQConfiguration
    public var guarantees: QueueGuarantees { QueueGuarantees(durable: false, orderedPerKey: true, redelivers: false) }
    /// The endpoint the job side bound (with the port chosen for `tcp://host:*`), or nil.
    public let boundEndpoint: String?
    private nonisolated(unsafe) let context: UnsafeMutableRawPointer
    private let inbound: ZeroMQSocket?
    /// Admits CURVE peers by key (bind side with `curve_clients`).
    private let authenticator: ZeroMQAuthenticator?
    private let senders: [ZeroMQSender]
    private let consumerActive = NIOLockedValueBox(false)
    private let logger: Logger
    private let publishedTotal = ManagedAtomic<Int>(0)

    /// Messages this backend accepted since it started.
    public var publishedCount: Int { publishedTotal.load(ordering: .relaxed) }
    private let lostTotal = ManagedAtomic<Int>(0)
    /// Messages this process's consumers counted as lost in transit so far.
    public var lostCount: Int { lostTotal.load(ordering: .relaxed) }
    private let published = Counter(label: "herald_queue_published_total", dimensions: [("queue", "zeromq")])
    private let publishFailed = Counter(label: "herald_queue_errors_total", dimensions: [("queue", "zeromq"), ("side", "publish")])

    public init(name: String = "zeromq", configuration: ZeroMQConfiguration, logger: Logger) throws {
        self.name = name
        self.configuration = configuration
        self.logger = logger
        guard let context = zmq_ctx_new() else { throw ZeroMQSocket.lastError("zmq_ctx_new") }
        self.context = context
        var authenticator: ZeroMQAuthenticator?
        do {
            if configuration.bind.isEmpty {
                inbound = nil
                boundEndpoint = nil
            } else {
                if let curve = configuration.curve {
                    authenticator = try ZeroMQAuthenticator(context: context, clients: curve.clients, logger: logger)
                }
                let socket = try ZeroMQSocket(context: context, type: ZMQ_PULL)
                try configuration.curve?.applyServer(to: socket)
                try socket.set(ZMQ_RCVHWM, Int32(clamping: configuration.receiveHighWaterMark))
                try socket.set(ZMQ_RCVTIMEO, 100)
                try socket.set(ZMQ_LINGER, 0)
                try socket.bind(configuration.bind)
                inbound = socket
                boundEndpoint = socket.lastEndpoint
            }
            let endpoints = configuration.connect.isEmpty ? [boundEndpoint].compactMap { $0 } : configuration.connect
            senders = try endpoints.map { try ZeroMQSender(context: context, endpoint: $0, configuration: configuration) }
        } catch {
            authenticator?.stop()
            zmq_ctx_term(context)
            throw error
        }
        self.authenticator = authenticator
        logger.info(
            "zeromq queue ready",
            metadata: [
                "zeromq.bind": "\(boundEndpoint ?? "-")", "zeromq.connect": "\(senders.map(\.endpoint))",
                "zeromq.curve": "\(configuration.curve.map { "public key \($0.publicKey)" } ?? "off")",
            ]
        )
    }

    /// Registers the plugin under `zeromq`; settings from `[queue.zeromq]` (see ``ZeroMQConfiguration``).
    public static func register(in registry: inout PluginRegistry) {
        registry.registerQueue("zeromq") { context in
            try ZeroMQQueue(name: context.name, configuration: ZeroMQConfiguration(context.config), logger: context.logger)
        }
    }

    public func publish(_ message: PushMsg) async throws {
        guard !senders.isEmpty else { throw QueueError("zeromq queue has no endpoint to publish to (set connect)") }
        let sender = senders.count == 1 ? senders[0] : senders[Int(FNV1a.hash32(message.partitionKey) % UInt32(senders.count))]
        do {
            try await sender.send(message)
            published.increment()
            publishedTotal.wrappingIncrement(ordering: .relaxed)
        } catch {
            publishFailed.increment()
            throw error
        }
    }

    public func makeConsumer() async throws -> any QueueConsumer {
        guard let inbound else { throw QueueError("zeromq queue has no bind endpoint: this process cannot consume") }
        let claimed = consumerActive.withLockedValue { active in
            defer { active = true }
            return !active
        }
        guard claimed else { throw QueueError("zeromq queue already has a consumer in this process") }
        return ZeroMQConsumer(
            socket: inbound,
            maxBuffered: configuration.maxBuffered,
            countGaps: configuration.countLosses,
            lostTotal: lostTotal,
            logger: logger,
            released: { [consumerActive] in consumerActive.withLockedValue { $0 = false } }
        )
    }

    public func shutdown() async {
        for sender in senders { await sender.shutdown() }
        inbound?.close()
        let context = ContextBox(self.context)
        let authenticator = self.authenticator
        // zmq_ctx_term blocks until every socket is closed and lingered; keep it off the pool.
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                authenticator?.stop()
                zmq_ctx_term(context.pointer)
                c.resume()
            }
            thread.start()
        }
    }
}

/// The zmq context handed to the thread that terminates it.
private final class ContextBox: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
}
