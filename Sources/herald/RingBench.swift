import ArgumentParser
import Foundation
import HeraldCore
import HeraldRing

struct RingBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring-bench",
        abstract: "Print ring quality: spread of keys over 3, 10 and 30 nodes (max/mean) and keys moved when one node is added."
    )

    @Option(help: "Keys placed per measurement.") var keys: Int = 1_000_000

    func run() {
        let rings: [(String, ([RingNode]) -> any HashRing)] = [
            ("ketama", { KetamaRing(nodes: $0) }), ("jump", { JumpRing(nodes: $0) }), ("rendezvous", { RendezvousRing(nodes: $0) }),
        ]
        print("| ring | nodes | max/mean | moved on +1 node | ideal 1/(n+1) | lookups/s |")
        print("|---|---|---|---|---|---|")
        for (name, make) in rings {
            for n in [3, 10, 30] {
                let start = ContinuousClock.now
                let r = RingQuality.measure(make, nodes: n, keys: keys)
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                print(
                    String(
                        format: "| %@ | %d | %.3f | %.4f | %.4f | %.0f |", name, n, r.maxOverMean, r.movedFraction, r.idealMoved,
                        Double(2 * keys) / seconds))
            }
        }
    }
}
