/// Comparisons of secrets (API tokens, the shared secret between roles) that take the same time
/// however much of the candidate matches, so timing does not reveal the secret byte by byte.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes; the time depends only on the longer length.
    public static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        let a = Array(a), b = Array(b)
        var difference = UInt(bitPattern: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= UInt((i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0))
        }
        return difference == 0
    }
}
