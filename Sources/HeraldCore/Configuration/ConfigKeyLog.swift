import NIOConcurrencyHelpers

/// The keys of one configuration document that code asked for, whether or not the document sets
/// them.
///
/// Every accessor of ``ConfigTable`` records the dotted path it was asked for, so once a process
/// has built its roles and plugins this is the set of keys it knows: a key the document sets that
/// nobody asked for is a typo or a setting of another version (``ConfigKeyCheck``). The list of
/// known keys is what the code reads, so it cannot drift from it.
public final class ConfigKeyLog: Sendable {
    private let paths = NIOLockedValueBox<Set<String>>([])

    public init() {}

    func ask(_ path: String) {
        _ = paths.withLockedValue { $0.insert(path) }
    }

    func ask(_ more: some Sequence<String>) {
        paths.withLockedValue { $0.formUnion(more) }
    }

    /// Every path asked for so far.
    public var asked: Set<String> { paths.withLockedValue { $0 } }
}
