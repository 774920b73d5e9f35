import Foundation

/// How long a client waits before it tries again: exponential in the attempts since the last
/// accepted connection, capped, and jittered downwards so a crowd that lost one server does not
/// come back in one wave. The delay is never above ``maximum``.
public struct ReconnectBackoff: Sendable, Hashable {
    /// The delay before the first retry, before jitter.
    public var initial: Duration
    /// The cap.
    public var maximum: Duration
    /// Growth per attempt.
    public var multiplier: Double
    /// The share of the delay taken off at random: 0.5 waits between half and all of it.
    public var jitter: Double

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(15), multiplier: Double = 2, jitter: Double = 0.5) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The delay before retry number `attempt` (0 for the first), with `random` in 0..<1.
    public func delay(attempt: Int, random: Double) -> Duration {
        let initialSeconds = Self.seconds(initial)
        let maximumSeconds = Self.seconds(maximum)
        let grown = initialSeconds * Foundation.pow(max(1, multiplier), Double(min(max(0, attempt), 64)))
        let capped = min(maximumSeconds, grown)
        let share = min(1, max(0, jitter)) * min(max(0, random), 1)
        return .nanoseconds(Int64((capped * (1 - share) * 1e9).rounded()))
    }

    /// The delay before retry number `attempt`, jittered with the system's random numbers.
    public func delay(attempt: Int) -> Duration {
        delay(attempt: attempt, random: Double.random(in: 0..<1))
    }

    static func seconds(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return Double(s) + Double(atto) / 1e18
    }
}
