import HeraldCore
import Metrics

/// The job's counters (swift-metrics), shared by its lanes.
struct JobMetrics: Sendable {
    let consumed = Counter(label: "herald_queue_consumed_total")
    /// Bytes of each merged room batch sent to a comet.
    let roomBatchBytes = Recorder(label: "herald_room_batch_bytes", aggregate: true)
    let publishToDeliver = Timer(label: "herald_publish_to_deliver_seconds", preferredDisplayUnit: .seconds)
    /// Pushes for a comet that is not in the directory (its clients are gone), acknowledged.
    let unknownServer = Counter(label: "herald_push_dropped_total", dimensions: [("reason", "unknown_server")])
    /// Messages queued for a comet that left the directory before accepting them, acknowledged.
    let cometGone = Counter(label: "herald_push_dropped_total", dimensions: [("reason", "comet_gone")])
    /// Pushes a comet refused for good (too large, malformed): dropped for that comet, acknowledged.
    let refused = Counter(label: "herald_push_dropped_total", dimensions: [("reason", "refused")])
    /// Calls a comet did not accept (each is retried).
    let pushFailed = Counter(label: "herald_push_failed_total")
    /// Messages left unacknowledged when a shutdown's drain timed out (redelivered by a redelivering queue).
    let abandoned = Counter(label: "herald_job_abandoned_total")
    let failureLog = RateLimitedLog(interval: .seconds(10))
}
