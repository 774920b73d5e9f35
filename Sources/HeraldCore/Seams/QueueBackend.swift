public import HeraldProtocol

/// A queue backend plugin: carries ``PushMsg`` from logic (publish) to job (consume).
public protocol QueueBackend: Sendable {
    var name: String { get }
    var guarantees: QueueGuarantees { get }

    /// Publishes one message. Returns once the backend accepted it according to its guarantees;
    /// throws ``QueueError`` when it could not (the push API then answers -500).
    func publish(_ message: PushMsg) async throws

    /// Opens the job side: a consumer of the queue.
    func makeConsumer() async throws -> any QueueConsumer

    /// Releases resources; pending publishes fail.
    func shutdown() async
}

/// A queue whose publish completes without suspending (an in-process queue under a lock). The push
/// API publishes to it on the event loop that read the request, with no task per request.
public protocol LocalQueueBackend: QueueBackend {
    /// ``QueueBackend/publish(_:)`` without suspending.
    func publishNow(_ message: PushMsg) throws
}
