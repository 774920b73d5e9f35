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

    /// Delivers to every member of `room`. Returns (delivered, dropped).
    func deliverToRoom(_ room: String, payload: PushPayload, allocator: ByteBufferAllocator) -> (Int, Int) {
        guard let members = rooms[room] else { return (0, 0) }
        var cache = FramedPushCache(payload, allocator: allocator)
        var delivered = 0
        var dropped = 0
        // Closing a slow consumer mutates the member list; iterate over a snapshot.
        for session in members.members {
            if session.deliver(cache.bytes(for: session.framing)) { delivered += 1 } else { dropped += 1 }
        }
        return (delivered, dropped)
    }

    /// Delivers to the given sessions that accept `operation`.
    func deliver(to targets: [CometSession], operation: Int32, payload: PushPayload, allocator: ByteBufferAllocator) -> (Int, Int) {
        var cache = FramedPushCache(payload, allocator: allocator)
        var delivered = 0
        var dropped = 0
        for session in targets where session.isActive && session.accepts(operation) {
            if session.deliver(cache.bytes(for: session.framing)) { delivered += 1 } else { dropped += 1 }
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
