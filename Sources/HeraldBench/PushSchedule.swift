import Atomics

/// The load tool's publishers: `workers` tasks share messages 0..<`messages` (worker w sends
/// w, w + workers, …), message j due `j / rate` seconds after `start` (rate 0: as fast as they
/// go). `send` pushes message j and says whether the API accepted it; returns how many it refused.
enum PushSchedule {
    static func run(
        messages: Int, rate: Double, workers: Int, start: ContinuousClock.Instant,
        send: @escaping @Sendable (Int) async throws -> Bool
    ) async throws -> Int {
        let refused = ManagedAtomic<Int>(0)
        let workers = max(1, workers)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for w in 0..<workers {
                tasks.addTask {
                    var j = w
                    while j < messages {
                        if rate > 0 {
                            let wait = start + .nanoseconds(Int64(Double(j) / rate * 1e9)) - ContinuousClock.now
                            if wait > .zero { try await Task.sleep(for: wait) }
                        }
                        if !(try await send(j)) { refused.wrappingIncrement(ordering: .relaxed) }
                        j += workers
                    }
                }
            }
            try await tasks.waitForAll()
        }
        return refused.load(ordering: .relaxed)
    }
}
