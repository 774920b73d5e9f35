/// Finds the keys a configuration document sets that no code asked for.
///
/// Run once the process has built everything that reads the document (its roles and plugins),
/// with the paths they asked for (``ConfigKeyLog/asked``). A key in a section the process reads
/// that nobody asked for is *unknown* — a typo, or a setting of another version — and is refused
/// with the nearest known key of its section. A section nobody read at all is *unused* here (the
/// `[queue.kafka]` section while the queue is `memory`, the queue settings in a comet process): it
/// is reported, not refused, since one file may serve several set-ups and roles.
public enum ConfigKeyCheck {
    public struct Report: Sendable, Equatable {
        /// One error per unknown key, each naming its full path and, when one is close, the known key meant.
        public var unknown: [ConfigError] = []
        /// Sections set in the document that this process does not read, by path.
        public var unused: [String] = []
    }

    /// `judged`: when set, an unknown key is reported only in a section that has known keys in
    /// this set (a reload passes the start-up keys: a section new since start-up was never read by
    /// its plugin, and its keys need a restart rather than a refusal).
    public static func check(_ root: ConfigTable, known: Set<String>, judged: Set<String>? = nil) -> Report {
        var report = Report()
        walk(root, known: known, judged: judged, into: &report)
        return report
    }

    /// Throws the first unknown key (all of them are in the message when there are several).
    public static func refuseUnknown(_ report: Report) throws(ConfigError) {
        guard let first = report.unknown.first else { return }
        guard report.unknown.count > 1 else { throw first }
        throw ConfigError(
            key: first.key, message: ([first.message] + report.unknown.dropFirst().map(\.description)).joined(separator: "; "))
    }

    private static func walk(_ table: ConfigTable, known: Set<String>, judged: Set<String>?, into report: inout Report) {
        let children = knownChildren(of: table.path, in: known)
        let isJudged = judged.map { !knownChildren(of: table.path, in: $0).isEmpty } ?? true
        for key in table.values.keys.sorted() {
            let path = table.keyPath(key)
            if known.contains(path) {
                if case .table(let sub) = table.values[key] { walk(sub, known: known, judged: judged, into: &report) }
                continue
            }
            guard !children.isEmpty else {
                // Nothing in this section was read: the whole section is not used here.
                report.unused.append(table.path)
                return
            }
            guard isJudged else { continue }
            report.unknown.append(ConfigError(key: path, message: message(for: key, section: table.path, known: children)))
        }
    }

    /// The names asked for directly under `path` (quoted keys with dots are left out: they only
    /// serve the suggestion).
    private static func knownChildren(of path: String, in known: Set<String>) -> [String] {
        let prefix = path.isEmpty ? "" : path + "."
        return known.compactMap { full in
            guard full.hasPrefix(prefix) else { return nil }
            let rest = full.dropFirst(prefix.count)
            return rest.isEmpty || rest.contains(".") || rest.contains("[") ? nil : String(rest)
        }
    }

    private static func message(for key: String, section: String, known: [String]) -> String {
        let place = section.isEmpty ? "at the top level" : "in [\(section)]"
        if let nearest = nearest(to: key, among: known) {
            return "unknown key \(place); did you mean \"\(nearest)\"?"
        }
        return "unknown key \(place) (its keys: \(known.sorted().joined(separator: ", ")))"
    }

    /// The known name with the fewest edits from `key`, if it is close enough to be a typo of it.
    public static func nearest(to key: String, among known: [String]) -> String? {
        let scored = known.map { (name: $0, distance: editDistance(Array(key.utf8), Array($0.utf8))) }
        guard let best = scored.min(by: { ($0.distance, $0.name) < ($1.distance, $1.name) }) else { return nil }
        return best.distance <= max(2, key.utf8.count / 3) ? best.name : nil
    }

    /// Levenshtein distance (insert, delete, substitute one byte).
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
