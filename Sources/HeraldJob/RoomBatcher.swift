import HeraldCore
import HeraldProtocol
import NIOCore

/// Merges room messages into op-9 batches without adding delay.
///
/// A room's first message goes to the comets at once; messages that arrive while that push is in
/// flight are appended to a pending batch, which goes out as soon as the flight completes. Unlike
/// goim's job there is no timer: light traffic is never held back, heavy traffic is merged.
/// Deliveries are acknowledged to the queue only after their batch was accepted by the comets.
actor RoomBatcher {
    typealias Flight = @Sendable (_ room: String, _ batch: ByteBuffer) async -> Void
    typealias Acknowledge = @Sendable (_ deliveries: [QueueDelivery]) async -> Void

    private struct Pending {
        var batch: ByteBuffer
        var deliveries: [QueueDelivery]
    }

    private struct RoomState {
        var inFlight = false
        var pending: [Pending] = []
        var pendingBytes = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let maxBatchBytes: Int
    private let maxQueuedBytes: Int
    private let flight: Flight
    private let acknowledge: Acknowledge
    private var rooms: [String: RoomState] = [:]
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(maxBatchBytes: Int, maxQueuedBytes: Int, flight: @escaping Flight, acknowledge: @escaping Acknowledge) {
        self.maxBatchBytes = maxBatchBytes
        self.maxQueuedBytes = maxQueuedBytes
        self.flight = flight
        self.acknowledge = acknowledge
    }

    /// Adds one encoded packet for `room`. Suspends while the room's queue is over its bound.
    func enqueue(room: String, packet: ByteBuffer, delivery: QueueDelivery) async {
        while (rooms[room]?.pendingBytes ?? 0) >= maxQueuedBytes {
            await withCheckedContinuation { rooms[room, default: RoomState()].waiters.append($0) }
        }
        var state = rooms[room] ?? RoomState()
        if !state.inFlight {
            state.inFlight = true
            rooms[room] = state
            launch(room: room, batch: packet, deliveries: [delivery])
            return
        }
        if var last = state.pending.last, last.batch.readableBytes + packet.readableBytes <= maxBatchBytes {
            state.pending.removeLast()
            var p = packet
            last.batch.writeBuffer(&p)
            last.deliveries.append(delivery)
            state.pending.append(last)
        } else {
            state.pending.append(Pending(batch: packet, deliveries: [delivery]))
        }
        state.pendingBytes += packet.readableBytes
        rooms[room] = state
    }

    /// Waits until no room has a batch in flight or pending.
    func waitUntilIdle() async {
        guard !rooms.isEmpty else { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private func launch(room: String, batch: ByteBuffer, deliveries: [QueueDelivery]) {
        let flight = self.flight
        Task {
            await flight(room, batch)
            await self.flightCompleted(room: room, deliveries: deliveries)
        }
    }

    private func flightCompleted(room: String, deliveries: [QueueDelivery]) async {
        guard var state = rooms[room] else { return }
        if state.pending.isEmpty {
            rooms[room] = nil
            for w in state.waiters { w.resume() }
            if rooms.isEmpty {
                let waiters = idleWaiters
                idleWaiters = []
                for w in waiters { w.resume() }
            }
        } else {
            let next = state.pending.removeFirst()
            state.pendingBytes -= next.batch.readableBytes
            let waiters = state.waiters
            state.waiters = []
            rooms[room] = state
            for w in waiters { w.resume() }
            launch(room: room, batch: next.batch, deliveries: next.deliveries)
        }
        await acknowledge(deliveries)
    }
}
