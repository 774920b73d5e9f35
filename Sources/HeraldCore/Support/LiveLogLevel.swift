import Atomics
public import Logging

/// A log handler whose level is process-wide and can change while running (SIGHUP reload of
/// `[log] level`): every logger made through it follows ``LiveLogLevel/set(_:)``.
///
/// Both are on every request's path (each log call checks the level; the HTTP server sets a
/// request id in each request's logger), so the level is one atomic load and the metadata lives
/// here, handed to the wrapped handler only when something is logged — setting a key does not
/// copy the wrapped handler's box.
public struct LiveLogLevel: LogHandler {
    private static let current = ManagedAtomic<UInt8>(Self.code(.info))
    private var base: any LogHandler

    public var metadata: Logger.Metadata

    public init(_ base: any LogHandler) {
        self.base = base
        self.metadata = base.metadata
    }

    /// Changes the level of every logger that uses this handler.
    public static func set(_ level: Logger.Level) { current.store(code(level), ordering: .relaxed) }

    private static func code(_ level: Logger.Level) -> UInt8 {
        switch level {
        case .trace: 0
        case .debug: 1
        case .info: 2
        case .notice: 3
        case .warning: 4
        case .error: 5
        case .critical: 6
        }
    }

    public var logLevel: Logger.Level {
        get {
            switch Self.current.load(ordering: .relaxed) {
            case 0: .trace
            case 1: .debug
            case 2: .info
            case 3: .notice
            case 4: .warning
            case 5: .error
            default: .critical
            }
        }
        set { Self.set(newValue) }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var handler = base
        handler.metadata = metadata
        handler.log(event: event)
    }
}
