import NIOCore

/// How many packets a connection may still send: a token bucket refilled at `rate` per second up
/// to `burst` (`[comet] packet_rate`, `packet_burst`). A client over it is closed with reason
/// `packet_rate_exceeded`: every packet costs the comet work (a reply, a forward to logic), so the
/// rate bounds what one connection can make it do.
///
/// One per connection, so it holds only what changes (16 bytes); the rate and burst are the
/// comet's and are passed in.
struct PacketBudget {
    private var tokens: Double
    private var refilled: NIODeadline

    init(burst: Int, now: NIODeadline = .now()) {
        self.tokens = Double(max(burst, 1))
        self.refilled = now
    }

    /// Takes one packet's token; false when none is left. `rate` 0 lets every packet through.
    mutating func take(rate: Int, burst: Int) -> Bool {
        guard rate > 0 else { return true }
        // The clock is read only when a rate applies.
        let now = NIODeadline.now()
        let elapsed = Double((now - refilled).nanoseconds) / 1e9
        tokens = min(Double(max(burst, 1)), tokens + elapsed * Double(rate))
        refilled = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
