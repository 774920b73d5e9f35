#if canImport(Glibc)
import Glibc
#endif

/// Raises the soft open-file limit to the hard limit: a gateway holds one descriptor per connection.
func raiseOpenFileLimit() {
    #if canImport(Glibc)
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    #endif
}
