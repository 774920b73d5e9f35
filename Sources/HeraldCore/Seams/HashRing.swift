/// A node on a hash ring.
public struct RingNode: Sendable, Hashable {
    public var name: String
    public var weight: Int

    public init(name: String, weight: Int = 1) {
        self.name = name
        self.weight = weight
    }
}

/// A hash ring plugin: places keys on nodes with a hash that is stable across processes.
///
/// A ring is an immutable value built from a node list; when nodes change a new ring is built and
/// swapped in whole.
public protocol HashRing: Sendable {
    var nodes: [RingNode] { get }
    /// The node that owns `key`, or nil when the ring is empty.
    func node(for key: String) -> String?
}
