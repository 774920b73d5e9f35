public import HeraldCore
import NIOConcurrencyHelpers

/// The comet directory of the all-in-one process (`herald serve`): its one comet, which the job
/// calls in-process and logic reports. Logic is built before the comet (the comet calls logic), so
/// the comet is set once it exists.
public final class LocalCometDirectory: CometDirectory {
    private let comet = NIOLockedValueBox<Comet?>(nil)

    public init(_ comet: Comet? = nil) {
        self.comet.withLockedValue { $0 = comet }
    }

    public func set(comet: Comet) { self.comet.withLockedValue { $0 = comet } }

    /// The one comet is this process: a mapping's server is alive as long as the mapping exists.
    public var everyServerIsLive: Bool { true }

    public func comets() async -> [CometID: any CometPusher] {
        guard let comet = comet.withLockedValue({ $0 }) else { return [:] }
        return [comet.serverID: comet]
    }

    public func nodes() async -> [CometNode] {
        guard let comet = comet.withLockedValue({ $0 }) else { return [] }
        let c = comet.configuration
        return [
            CometNode(
                id: c.serverID,
                addresses: c.publicAddresses,
                weight: c.weight,
                connectionCount: comet.connectionCount,
                ipCount: comet.ipCount,
                version: HeraldVersion.current,
                startedAtMillis: comet.startedAtMillis,
                // In one process the directory is the comet itself: always current.
                renewedAtMillis: HeraldVersion.millis()
            )
        ]
    }
}
