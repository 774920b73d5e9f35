import Foundation
import NIOConcurrencyHelpers

/// The `Date` header of the answers the API writes itself (RFC 9110's IMF-fixdate,
/// "Sun, 06 Nov 1994 08:49:37 GMT"), formatted once a second and shared by every connection.
final class HTTPDate: Sendable {
    private let cached = NIOLockedValueBox((second: -1, text: ""))

    /// The header's value for the current second.
    func now() -> String {
        let second = Int(time(nil))
        return cached.withLockedValue { cached in
            if cached.second != second { cached = (second, Self.format(second)) }
            return cached.text
        }
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `seconds` since 1970 as an IMF-fixdate.
    static func format(_ seconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
