import Foundation
public import HeraldCore

/// Rendezvous (highest random weight) hashing: each key goes to the node with the highest score
/// for (node, key); weights scale the score (−weight / ln u). Adding a node moves only the keys it
/// now wins. O(nodes) per lookup, no stored points.
public struct RendezvousRing: HashRing {
    public let nodes: [RingNode]
    private let seeds: [UInt64]

    public init(nodes: [RingNode]) {
        self.nodes = nodes
        self.seeds = nodes.map { RingHash.hash64($0.name) }
    }

    public func node(for key: String) -> String? {
        guard !nodes.isEmpty else { return nil }
        let k = RingHash.hash64(key)
        var best = 0
        var bestScore = -Double.infinity
        for i in nodes.indices {
            let h = RingHash.mix(seeds[i] ^ k)
            // Uniform in (0, 1): the top 53 bits.
            let u = (Double(h >> 11) + 0.5) / Double(UInt64(1) << 53)
            let score = -Double(max(1, nodes[i].weight)) / log(u)
            if score > bestScore {
                bestScore = score
                best = i
            }
        }
        return nodes[best].name
    }
}

/// Stable 64-bit hashing for rings (never Swift's per-process `Hasher`).
enum RingHash {
    /// FNV-1a 64 followed by a splitmix64 finaliser for avalanche.
    static func hash64(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        return mix(h)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
