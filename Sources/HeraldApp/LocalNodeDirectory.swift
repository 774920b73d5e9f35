import HeraldComet
import HeraldCore
import NIOConcurrencyHelpers

/// The node list of the all-in-one process: its own comet.
final class LocalNodeDirectory: NodeDirectory {
    private let comet = NIOLockedValueBox<Comet?>(nil)

    func set(comet: Comet) { self.comet.withLockedValue { $0 = comet } }

    func nodes() async -> [CometNode] {
        guard let comet = comet.withLockedValue({ $0 }) else { return [] }
        let c = comet.configuration
        return [
            CometNode(
                id: c.serverID,
                addresses: c.publicAddresses,
                weight: c.weight,
                connectionCount: comet.connectionCount,
                ipCount: comet.ipCount
            )
        ]
    }
}
