import Atomics
import HeraldCore

/// One consumed queue message on its way to the comets that must receive it: acknowledged to the
/// queue once every one of them accepted it (or left the cluster, taking its clients with it).
final class DeliveryProgress: Sendable {
    let delivery: QueueDelivery
    private let remaining: ManagedAtomic<Int>
    private let completed: @Sendable (QueueDelivery) async -> Void

    init(_ delivery: QueueDelivery, comets: Int, completed: @escaping @Sendable (QueueDelivery) async -> Void) {
        precondition(comets > 0)
        self.delivery = delivery
        self.remaining = ManagedAtomic(comets)
        self.completed = completed
    }

    /// One comet is done with the message; the last one acknowledges it.
    func finishOne() async {
        if remaining.wrappingDecrementThenLoad(ordering: .acquiringAndReleasing) == 0 { await completed(delivery) }
    }
}
