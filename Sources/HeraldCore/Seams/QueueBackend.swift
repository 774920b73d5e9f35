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
