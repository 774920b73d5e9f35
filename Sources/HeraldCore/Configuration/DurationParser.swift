/// Parses durations written the way goim's configs write them: `"250ms"`, `"5s"`, `"4m"`, `"1h30m"`.
/// Units: `ns`, `us`, `ms`, `s`, `m`, `h`; numbers may have a fraction (`"1.5s"`). A duration
/// longer than ``longest`` (a typo such as `"99999999999h"`) is not a duration: nil, never a trap.
public enum DurationParser {
    public static func parse(_ text: String) -> Duration? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return .zero }
        var total = Duration.zero
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let nanos: Double
            switch unit {
            case "ns": nanos = 1
            case "us", "µs": nanos = 1_000
            case "ms": nanos = 1_000_000
            case "s": nanos = 1_000_000_000
            case "m": nanos = 60_000_000_000
            case "h": nanos = 3_600_000_000_000
            default: return nil
            }
            let part = value * nanos
            guard part.isFinite, part <= Double(longest.nanoseconds) else { return nil }
            total += .nanoseconds(Int64(part))
            guard total <= longest else { return nil }
        }
        return total
    }

    /// The longest duration a setting may have: 100 years.
    public static let longest: Duration = .seconds(100 * 365 * 86400)
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : ns &+ attoseconds / 1_000_000_000
    }

    /// The duration in seconds as a floating-point number.
    public var seconds: Double { Double(nanoseconds) / 1e9 }
}
