import HeraldCore
import Testing

@testable import HeraldRing

@Suite("hash rings")
struct RingTests {
    static let rings: [(String, @Sendable ([RingNode]) -> any HashRing)] = [
        ("ketama", { KetamaRing(nodes: $0) }),
        ("jump", { JumpRing(nodes: $0) }),
        ("rendezvous", { RendezvousRing(nodes: $0) }),
    ]

    @Test("ketama places points as goim v1 does: SHA-1 of node:i, digest bytes 16-19")
    func ketamaHash() {
        // SHA-1("a") = 86f7e437faa5a7fce15d1ddcb9eaeaea377667b8; bytes 16..19 = 37 76 67 b8.
        #expect(KetamaRing.hash("a") == 0x3776_67B8)
        // Lookup goes to the first point at or after the key's hash: check against the points directly.
        let ring = KetamaRing(nodes: [RingNode(name: "1"), RingNode(name: "2")])
        let points = ["1", "2"].flatMap { n in (1...255).map { (KetamaRing.hash("\(n):\($0)"), n) } }.sorted { $0.0 < $1.0 }
        for key in ["123", "7", "user-42"] {
            let h = KetamaRing.hash(key)
            let owner = (points.first { $0.0 >= h } ?? points[0]).1
            #expect(ring.node(for: key) == owner, "key \(key)")
        }
        #expect(KetamaRing(nodes: []).node(for: "x") == nil)
    }

    @Test("ketama spreads keys within 1.15 of the mean over 10 nodes")
    func ketamaSpread() {
        let r = RingQuality.measure({ KetamaRing(nodes: $0) }, nodes: 10, keys: 200_000)
        #expect(r.maxOverMean <= 1.15, "max/mean \(r.maxOverMean)")
    }

    @Test("adding a node moves about 1/(n+1) of the keys, for every ring", arguments: [3, 10, 30])
    func moved(nodes: Int) {
        for (name, make) in Self.rings {
            let r = RingQuality.measure(make, nodes: nodes, keys: 100_000)
            let error = abs(r.movedFraction - r.idealMoved) / r.idealMoved
            #expect(error <= 0.15, "\(name) at \(nodes) nodes moved \(r.movedFraction), ideal \(r.idealMoved)")
            #expect(r.maxOverMean <= 1.3, "\(name) at \(nodes) nodes max/mean \(r.maxOverMean)")
        }
    }

    @Test("rings are registered by name")
    func registry() throws {
        var registry = PluginRegistry()
        BuiltInRings.register(in: &registry)
        #expect(registry.ringNames == ["jump", "ketama", "rendezvous"])
        let ring = try registry.makeRing(plugin: "jump", nodes: [RingNode(name: "a"), RingNode(name: "b")])
        #expect(["a", "b"].contains(ring.node(for: "k")!))
    }
}
