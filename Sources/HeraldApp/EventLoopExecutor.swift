import Atomics
import NIOCore
import NIOPosix

/// Runs the process's Swift tasks on its event loops (NIO's global-executor take-over), so the
/// job's hand-off, the lanes and the comet's delivery run on the threads that own the sockets
/// instead of waking a second pool for every push.
///
/// Measured with `herald bench --workload unicast` (1,000 WebSocket users, 16 publishers, closed
/// loop): futex calls 13.7 K/s → 0.9 K/s, context switches 12.2 K/s → 5.6 K/s; server CPU per push
/// 85 → 76 µs closed loop and 187 → 166 µs open loop at 4,000 pushes/s (means of 3 runs each).
/// It is process-wide, so only the `herald` command installs it (on Linux), before it builds a
/// role (`[server] tasks_on_event_loops`, on by default); libraries and tests that build a role
/// themselves keep Swift's default pool. A plugin that blocks a thread in an async function would
/// then hold an event loop: turn the setting off for such plugins (the built-in ones block only on
/// threads of their own, apart from destroying a Kafka consumer whose subscription failed).
public enum EventLoopExecutor {
    private static let installed = ManagedAtomic(false)

    /// Whether the take-over is in place (the roles then use ``MultiThreadedEventLoopGroup/singleton``).
    public static var isInstalled: Bool { installed.load(ordering: .acquiring) }

    /// Installs the take-over with `threads` event loops (0: one per core, or NIO's
    /// `NIO_SINGLETON_GROUP_LOOP_COUNT`). Call it once, before anything uses the singleton group;
    /// false where it is not done: off Linux (NIO requires the main thread there, and the
    /// `herald` command's `run` is not on it), or when the runtime does not allow it.
    @discardableResult
    public static func install(threads: Int) -> Bool {
        #if os(Linux)
        guard !isInstalled else { return true }
        if threads > 0 { NIOSingletons.groupLoopCountSuggestion = threads }
        guard NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() else { return false }
        installed.store(true, ordering: .releasing)
        return true
        #else
        return false
        #endif
    }
}
