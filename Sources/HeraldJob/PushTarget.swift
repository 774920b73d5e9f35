public import HeraldProtocol

/// Whom a queue message is for at one comet, and what keeps its order there.
enum PushTarget: Hashable, Sendable {
    /// Connections by key that accept `operation` (a push to keys or users).
    case keys([String], operation: Int32)
    /// Everyone in a room.
    case room(String)
    /// Every connection that accepts `operation`, at most `speed` connections a second (0 = no limit).
    case broadcast(operation: Int32, speed: Int32)

    init?(_ message: PushMsg) {
        switch message.type {
        case .push: self = .keys(message.keys, operation: message.operation)
        case .room: self = .room(message.room)
        case .broadcast: self = .broadcast(operation: message.operation, speed: message.speed)
        case .UNRECOGNIZED: return nil
        }
    }

    /// Messages with the same order key reach a comet in the order they were consumed (goim's
    /// queue key: the first key of a push, the room, the operation of a broadcast); different
    /// order keys are delivered concurrently.
    var orderKey: String {
        switch self {
        case .keys(let keys, _): "k:" + (keys.first ?? "")
        case .room(let room): "r:" + room
        // A paced broadcast takes its time: it does not hold the others.
        case .broadcast(let operation, let speed): speed > 0 ? "bp:\(operation)" : "b:\(operation)"
        }
    }

    /// Whether messages for this target may be merged into one call (a paced broadcast may not:
    /// each carries its own pace).
    var merges: Bool {
        if case .broadcast(_, let speed) = self { return speed == 0 }
        return true
    }
}
