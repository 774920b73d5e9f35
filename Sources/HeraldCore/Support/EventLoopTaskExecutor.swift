public import NIOCore

/// Runs Swift tasks on one NIO event loop (SE-0417 task executor preference): code that prefers
/// it — the push API's request handlers, the job — runs on the thread that owns the sockets it
/// reads and writes, instead of hopping to the global executor and back for every request.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
