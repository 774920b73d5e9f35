import HeraldCore
import NIOConcurrencyHelpers

/// The job's lanes by comet id, and the lanes replaced after their comet left (their last calls
/// may still be running): what a drain waits for and what a shutdown past its deadline abandons.
final class LaneSet: Sendable {
    private struct State {
        var current: [CometID: CometLane] = [:]
        var replaced: [CometLane] = []
    }

    private let state = NIOLockedValueBox(State())

    subscript(id: CometID) -> CometLane? { state.withLockedValue { $0.current[id] } }

    /// Installs `lane` for `id`, keeping the one it replaces for the drain.
    func install(_ lane: CometLane, for id: CometID) {
        state.withLockedValue { s in
            if let old = s.current[id] { s.replaced.append(old) }
            s.current[id] = lane
        }
    }

    /// Removes and returns the lanes whose comet is not in `present`.
    func removeAll(notIn present: Set<CometID>) -> [CometLane] {
        state.withLockedValue { s in
            let gone = s.current.filter { !present.contains($0.key) }
            for (id, lane) in gone {
                s.current[id] = nil
                s.replaced.append(lane)
            }
            return Array(gone.values)
        }
    }

    /// Every lane, current and replaced.
    var all: [CometLane] { state.withLockedValue { Array($0.current.values) + $0.replaced } }
}
