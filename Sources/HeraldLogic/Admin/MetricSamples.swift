/// The `herald_*` samples of a Prometheus text exposition, by series (`name` or `name{labels}`),
/// histogram buckets left out. What the console shows is read from the process's own metrics, so
/// the figures it prints are the ones a Prometheus scrape would get.
public struct MetricSamples: Sendable, Equatable {
    public private(set) var values: [String: Double] = [:]

    public init(text: [UInt8]) {
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
            guard line.hasPrefix("herald_"), !line.contains("_bucket{"), let space = line.lastIndex(of: " "),
                let value = Double(line[line.index(after: space)...])
            else { continue }
            values[String(line[..<space])] = value
        }
    }

    /// Gauges every process of a deployment sets to the same kind of value (its migration phase,
    /// the comets it sees): adding them up would mean nothing, so the lowest is kept — the phase
    /// of the process furthest behind.
    static let sameInEveryProcess: Set<String> = ["herald_migration_phase", "herald_registry_comets"]

    /// Adds `other`'s samples to these, series by series (the console's figures for a cluster):
    /// counters and additive gauges (connections, lag) are summed, ``sameInEveryProcess`` not.
    public mutating func add(_ other: MetricSamples) {
        for (series, value) in other.values {
            let name = series.split(separator: "{", maxSplits: 1).first.map(String.init) ?? series
            if Self.sameInEveryProcess.contains(name) {
                values[series] = min(values[series] ?? value, value)
            } else {
                values[series, default: 0] += value
            }
        }
    }

    /// The sum of every series of `name` (all label values), or nil when none exists.
    public func total(_ name: String) -> Double? {
        var sum: Double?
        for (series, value) in values where series == name || series.hasPrefix(name + "{") {
            sum = (sum ?? 0) + value
        }
        return sum
    }
}
