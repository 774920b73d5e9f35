public import Logging
import NIOConcurrencyHelpers

/// A log handler whose level is process-wide and can change while running (SIGHUP reload of
/// `[log] level`): every logger made through it follows ``LiveLogLevel/set(_:)``.
public struct LiveLogLevel: LogHandler {
    private static let current = NIOLockedValueBox<Logger.Level>(.info)
    private var base: any LogHandler

    public init(_ base: any LogHandler) { self.base = base }

    /// Changes the level of every logger that uses this handler.
    public static func set(_ level: Logger.Level) { current.withLockedValue { $0 = level } }

    public var logLevel: Logger.Level {
        get { Self.current.withLockedValue { $0 } }
        set { Self.set(newValue) }
    }

    public var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        base.log(event: event)
    }
}
