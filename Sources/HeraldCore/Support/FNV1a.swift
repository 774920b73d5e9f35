/// FNV-1a (32-bit): a hash that is stable across processes and runs, unlike Swift's `Hasher`.
/// Used where placement must agree between processes (key buckets, zeromq job endpoints).
public enum FNV1a {
    public static func hash32(_ text: String) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for byte in text.utf8 {
            h ^= UInt32(byte)
            h = h &* 0x0100_0193
        }
        return h
    }
}
