import NIOConcurrencyHelpers

/// Fixed loopback ports for tests that must name a port before a process binds it (a child
/// process's config, a ZeroMQ endpoint). Blocks are handed out once per test process, so two
/// tests never share one, and lie below the kernel's ephemeral range (32768 and up on Linux), so
/// no client socket of another test can hold one — or connect to itself on one.
public enum TestPorts {
    private static let next = NIOLockedValueBox(10_000 + 200 * Int.random(in: 0..<50))

    /// The first port of `size` consecutive ports no other caller in this process receives.
    public static func block(_ size: Int = 100) -> Int {
        next.withLockedValue { start in
            if start + size > 32_000 { start = 10_000 }
            defer { start += size }
            return start
        }
    }
}
