public import Foundation

/// The version this build of Herald reports (`herald --version`, the comet registry, the console).
public enum HeraldVersion {
    public static let current = "0.1.0"

    /// Milliseconds since 1970, as the registry and the console carry times.
    public static func millis(_ date: Date = Date()) -> Int64 { Int64(date.timeIntervalSince1970 * 1000) }
}
