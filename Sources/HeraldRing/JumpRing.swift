public import HeraldCore

/// Jump consistent hash (Lamping & Veach): no stored points, perfectly even, and adding a node at
/// the end moves exactly the keys the new node takes. Nodes are placed in list order, so new nodes
/// must be appended. Keys are hashed with FNV-1a 64 and a final mix.
public struct JumpRing: HashRing {
    public let nodes: [RingNode]

    public init(nodes: [RingNode]) { self.nodes = nodes }

    public func node(for key: String) -> String? {
        guard !nodes.isEmpty else { return nil }
        return nodes[Self.bucket(RingHash.hash64(key), count: nodes.count)].name
    }

    static func bucket(_ key: UInt64, count: Int) -> Int {
        var k = key
        var b: Int64 = -1
        var j: Int64 = 0
        while j < Int64(count) {
            b = j
            k = k &* 2_862_933_555_777_941_757 &+ 1
            j = Int64(Double(b + 1) * (Double(Int64(1) << 31) / Double((k >> 33) + 1)))
        }
        return Int(b)
    }
}
