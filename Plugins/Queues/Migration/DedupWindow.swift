import DequeModule

/// The last `capacity` message ids seen, for suppressing the second copy of a message that was
/// published to both backends. Oldest ids are forgotten first.
struct DedupWindow {
    private var ids = Set<MessageID>()
    private var order = Deque<MessageID>()
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// True when `id` is new (and remembers it), false for a duplicate.
    mutating func insert(_ id: MessageID) -> Bool {
        guard ids.insert(id).inserted else { return false }
        order.append(id)
        if order.count > capacity, let oldest = order.popFirst() { ids.remove(oldest) }
        return true
    }

    var count: Int { ids.count }
}

/// A message's identity: the publishing logic instance and its sequence number there.
struct MessageID: Hashable, Sendable {
    var origin: String
    var seq: UInt64
}
