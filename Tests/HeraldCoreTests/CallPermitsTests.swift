import NIOConcurrencyHelpers
import Testing

@testable import HeraldRPC

@Suite("gRPC call permits")
struct CallPermitsTests {
    @Test("no more than the limit run at once and every call runs")
    func limitAndOrder() async throws {
        let permits = CallPermits(limit: 3)
        let running = NIOLockedValueBox((now: 0, most: 0, done: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    try await permits.with {
                        running.withLockedValue {
                            $0.now += 1; $0.most = max($0.most, $0.now)
                        }
                        try await Task.sleep(for: .milliseconds(1))
                        running.withLockedValue {
                            $0.now -= 1; $0.done += 1
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let r = running.withLockedValue { $0 }
        #expect(r.done == 200)
        #expect(r.most == 3)
    }

    @Test("a waiting call whose task is cancelled leaves the line and never runs; the others still run")
    func cancelledWaiter() async throws {
        let permits = CallPermits(limit: 1)
        let release = AsyncStream<Void>.makeStream()
        let holder = Task { try await permits.with { for await _ in release.stream { break } } }
        try await Task.sleep(for: .milliseconds(50))
        let ran = NIOLockedValueBox(false)
        let waiter = Task { try await permits.with { ran.withLockedValue { $0 = true } } }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        release.continuation.yield()
        try await holder.value
        #expect(ran.withLockedValue { $0 } == false)
        #expect(try await permits.with { 7 } == 7, "the permit came back after the holder finished")
    }
}
