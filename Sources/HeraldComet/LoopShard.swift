import HeraldCore
import HeraldProtocol
import NIOCore

/// The connections that live on one event loop, and their rooms.
///
/// Everything here is confined to ``eventLoop``: room fan-out runs as one task per loop that
/// writes to its own channels, never crossing threads per connection. Deadlines are checked by
/// one repeated task per loop instead of a timer per connection.
final class LoopShard: @unchecked Sendable {
    let eventLoop: any EventLoop
    private(set) var sessions: [CometSession] = []
    private var rooms: [String: RoomMembers] = [:]
    private var sweepTask: RepeatedTask?

    final class RoomMembers {
        var members: [CometSession] = []
    }

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    // MARK: Membership (on eventLoop)

    func add(_ session: CometSession) {
        session.shardIndex = sessions.count
        sessions.append(session)
    }

    func remove(_ session: CometSession) {
        let i = session.shardIndex
        guard i >= 0, i < sessions.count, sessions[i] === session else { return }
        let last = sessions.removeLast()
        if i < sessions.count {
            sessions[i] = last
            last.shardIndex = i
        }
        session.shardIndex = -1
    }

    func join(_ session: CometSession, room: String) {
        let members: RoomMembers
        if let existing = rooms[room] {
            members = existing
        } else {
            members = RoomMembers()
            rooms[room] = members
        }
        session.roomIndex = members.members.count
        members.members.append(session)
    }

    func leave(_ session: CometSession, room: String) {
        guard let members = rooms[room] else { return }
        let i = session.roomIndex
        guard i >= 0, i < members.members.count, members.members[i] === session else { return }
        let last = members.members.removeLast()
        if i < members.members.count {
            members.members[i] = last
            last.roomIndex = i
        }
        session.roomIndex = -1
        if members.members.isEmpty { rooms[room] = nil }
    }

    var roomIDs: [String] { Array(rooms.keys) }

    // MARK: Delivery (on eventLoop)

    /// Sessions written per event-loop task during a fan-out. Between slices the loop serves its
    /// other I/O — push API requests, client reads — so a room of thousands does not hold the loop
    /// for the whole fan-out, and pushes that arrive meanwhile are accepted at once and merged into
    /// the next room batch instead of waiting behind this one.
    static let sliceSize = 128

    /// Delivers to every member of `room` (as it is now); completes with (delivered, dropped).
    func deliverToRoom(_ room: String, payload: PushPayload, allocator: ByteBufferAllocator) -> EventLoopFuture<(Int, Int)> {
        guard let members = rooms[room] else { return eventLoop.makeSucceededFuture((0, 0)) }
        return FanOut(shard: self, targets: members.members, operation: nil, payload: payload, allocator: allocator).start()
    }

    /// Delivers to the given sessions that accept `operation`, in slices; completes with (delivered, dropped).
    func deliverInSlices(
        to targets: [CometSession], operation: Int32, payload: PushPayload, allocator: ByteBufferAllocator
    ) -> EventLoopFuture<(Int, Int)> {
        FanOut(shard: self, targets: targets, operation: operation, payload: payload, allocator: allocator).start()
    }

    /// Delivers to the given sessions that accept `operation`, all at once. Returns (delivered, dropped).
    func deliver(to targets: [CometSession], operation: Int32, payload: PushPayload, allocator: ByteBufferAllocator) -> (Int, Int) {
        var cache = FramedPushCache(payload, allocator: allocator)
        return Self.write(targets[...], operation: operation, cache: &cache)
    }

    /// Writes to each target still on this shard (and accepting `operation`, when given).
    fileprivate static func write(_ targets: ArraySlice<CometSession>, operation: Int32?, cache: inout FramedPushCache) -> (Int, Int) {
        var delivered = 0
        var dropped = 0
        for session in targets where session.shardIndex >= 0 {
            if let operation, !(session.isActive && session.accepts(operation)) { continue }
            if session.deliver(&cache) { delivered += 1 } else { dropped += 1 }
        }
        return (delivered, dropped)
    }

    // MARK: Deadlines

    func startSweeping(every tick: Duration) {
        let interval = TimeAmount.nanoseconds(tick.nanoseconds)
        sweepTask = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            self?.sweep(now: .now())
        }
    }

    func stopSweeping() {
        sweepTask?.cancel()
        sweepTask = nil
    }

    func sweep(now: NIODeadline) {
        var expired: [CometSession] = []
        for session in sessions where session.deadline < now {
            expired.append(session)
        }
        for session in expired { session.deadlinePassed() }
    }
}

/// One fan-out on one shard: a snapshot of the targets written `LoopShard.sliceSize` at a time, one
/// event-loop task per slice. A session that closes meanwhile is skipped; one that joins after the
/// snapshot does not get this message.
private final class FanOut {
    private let shard: LoopShard
    private let targets: [CometSession]
    private let operation: Int32?
    private var cache: FramedPushCache
    private var next = 0
    private var delivered = 0
    private var dropped = 0
    private let promise: EventLoopPromise<(Int, Int)>

    init(shard: LoopShard, targets: [CometSession], operation: Int32?, payload: PushPayload, allocator: ByteBufferAllocator) {
        self.shard = shard
        self.targets = targets
        self.operation = operation
        self.cache = FramedPushCache(payload, allocator: allocator)
        self.promise = shard.eventLoop.makePromise()
    }

    func start() -> EventLoopFuture<(Int, Int)> {
        slice()
        return promise.futureResult
    }

    private func slice() {
        let end = min(targets.count, next + LoopShard.sliceSize)
        let (d, x) = LoopShard.write(targets[next..<end], operation: operation, cache: &cache)
        delivered += d
        dropped += x
        next = end
        if next < targets.count {
            shard.eventLoop.execute { self.slice() }
        } else {
            promise.succeed((delivered, dropped))
        }
    }
}
