public import HeraldCore

/// Registers the built-in rings: `ketama`, `jump`, `rendezvous`.
public enum BuiltInRings {
    public static func register(in registry: inout PluginRegistry) {
        registry.registerRing("ketama") { KetamaRing(nodes: $0) }
        registry.registerRing("jump") { JumpRing(nodes: $0) }
        registry.registerRing("rendezvous") { RendezvousRing(nodes: $0) }
    }
}

/// Ring quality: how evenly keys spread and how many move when a node is added.
public enum RingQuality {
    public struct Report: Sendable {
        public var nodes: Int
        public var keys: Int
        /// Largest node share divided by the mean share (1.0 = perfectly even).
        public var maxOverMean: Double
        /// Fraction of keys that changed node when one node was added.
        public var movedFraction: Double
        /// The ideal moved fraction, 1/(n+1).
        public var idealMoved: Double { 1.0 / Double(nodes + 1) }
    }

    public static func measure(_ make: ([RingNode]) -> any HashRing, nodes n: Int, keys: Int) -> Report {
        let names = (0..<n).map { RingNode(name: "node-\($0)") }
        let ring = make(names)
        let grown = make(names + [RingNode(name: "node-\(n)")])
        var counts: [String: Int] = [:]
        var moved = 0
        for i in 0..<keys {
            let key = "key-\(i)"
            let a = ring.node(for: key)!
            counts[a, default: 0] += 1
            if grown.node(for: key)! != a { moved += 1 }
        }
        let mean = Double(keys) / Double(n)
        return Report(
            nodes: n, keys: keys, maxOverMean: Double(counts.values.max() ?? 0) / mean, movedFraction: Double(moved) / Double(keys))
    }
}
