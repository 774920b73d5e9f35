import Crypto
public import HeraldCore

/// goim v1's consistent-hash ring: 255 points per node (× weight); point i of node n is
/// SHA-1(`n:i`), digest bytes 16–19 big-endian; a key goes to the first point at or after
/// SHA-1(key) (same bytes), wrapping around.
public struct KetamaRing: HashRing {
    public static let pointsPerNode = 255
    public let nodes: [RingNode]
    private let points: [(hash: UInt32, node: Int)]

    public init(nodes: [RingNode]) {
        self.nodes = nodes
        var points: [(hash: UInt32, node: Int)] = []
        for (index, node) in nodes.enumerated() {
            for i in 1...(Self.pointsPerNode * max(1, node.weight)) {
                points.append((Self.hash("\(node.name):\(i)"), index))
            }
        }
        points.sort { $0.hash != $1.hash ? $0.hash < $1.hash : $0.node < $1.node }
        self.points = points
    }

    public func node(for key: String) -> String? {
        guard !points.isEmpty else { return nil }
        let h = Self.hash(key)
        var lo = 0
        var hi = points.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if points[mid].hash < h { lo = mid + 1 } else { hi = mid }
        }
        return nodes[points[lo == points.count ? 0 : lo].node].name
    }

    static func hash(_ text: String) -> UInt32 {
        let digest = Array(Insecure.SHA1.hash(data: Array(text.utf8)))
        return UInt32(digest[16]) << 24 | UInt32(digest[17]) << 16 | UInt32(digest[18]) << 8 | UInt32(digest[19])
    }
}
