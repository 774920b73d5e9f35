import DequeModule
import Foundation

/// One OS thread that runs submitted work in order, for a blocking C client whose handle must stay
/// on one thread (a hiredis context, a zmq socket). Callers await the result; the thread never
/// runs on an event loop or on Swift's cooperative pool.
public final class SerialThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var work = Deque<() -> Void>()
    private var stopping = false
    private var stopped = false
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []

    public init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on the thread and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            let accepted = enqueue {
                do { c.resume(returning: try body()) } catch { c.resume(throwing: error) }
            }
            if !accepted { c.resume(throwing: CancellationError()) }
        }
    }

    /// Queues `job` without waiting for it; false (and `job` never runs) once the thread is stopping.
    public func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        enqueue(job)
    }

    /// Runs what is queued, then `last` on the thread, and ends the thread.
    public func stop(last: @escaping @Sendable () -> Void = {}) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            condition.lock()
            if stopped {
                condition.unlock()
                c.resume()
                return
            }
            stopWaiters.append(c)
            if !stopping {
                stopping = true
                work.append(last)
            }
            condition.signal()
            condition.unlock()
        }
    }

    private func enqueue(_ job: @escaping () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        work.append(job)
        condition.signal()
        return true
    }

    private func loop() {
        while true {
            condition.lock()
            while work.isEmpty { condition.wait() }
            let job = work.removeFirst()
            let finished = stopping && work.isEmpty
            condition.unlock()
            job()
            if finished {
                condition.lock()
                stopped = true
                let waiters = stopWaiters
                stopWaiters = []
                condition.unlock()
                for w in waiters { w.resume() }
                return
            }
        }
    }
}
