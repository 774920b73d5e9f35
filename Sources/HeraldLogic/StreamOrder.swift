import DequeModule
import NIOConcurrencyHelpers

/// Runs the work of one history stream one call at a time, in arrival order: a message's offset is
/// assigned and the message published before the next message of that stream is stored, so the
/// queue carries each stream's messages in offset order (what lets a recovering comet merge
/// history and live messages by offset). Different streams do not wait for each other.
final class StreamOrder: Sendable {
    private struct Lane {
        var waiters: Deque<CheckedContinuation<Void, Never>> = []
    }

    /// The streams with a call running; a lane exists while its stream is busy.
    private let lanes = NIOLockedValueBox<[String: Lane]>([:])

    func run<T: Sendable>(_ stream: String, _ body: () async throws -> T) async throws -> T {
        await acquire(stream)
        defer { release(stream) }
        return try await body()
    }

    private func acquire(_ stream: String) async {
        let free = lanes.withLockedValue { lanes in
            guard lanes[stream] == nil else { return false }
            lanes[stream] = Lane()
            return true
        }
        if free { return }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            lanes.withLockedValue { lanes in
                if lanes[stream] == nil {
                    // Released between the two looks: the lane is this call's now.
                    lanes[stream] = Lane()
                    waiter.resume()
                } else {
                    lanes[stream]!.waiters.append(waiter)
                }
            }
        }
    }

    private func release(_ stream: String) {
        lanes.withLockedValue { lanes in
            if let next = lanes[stream]?.waiters.popFirst() {
                // The lane passes to the next call; it stays busy.
                next.resume()
            } else {
                lanes[stream] = nil
            }
        }
    }
}
