import Testing

@testable import HeraldComet

@Suite("key buckets")
struct KeyBucketTests {
    @Test(
        "FNV-1a matches the reference values (stable across processes)",
        arguments: [
            ("", UInt32(0x811C_9DC5)), ("a", 0xE40C_292C), ("foobar", 0xBF9C_F968),
        ])
    func fnv(key: String, expected: UInt32) {
        #expect(KeyBucket.hash(key) == expected)
    }
}
