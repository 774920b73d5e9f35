/// A table of configuration values with typed accessors that report the full key path on error.
///
/// Plugins receive their own section as a `ConfigTable` and read their keys from it, so a new
/// plugin needs no change to the core configuration model. Tables read from a document record
/// every key asked for in the document's ``ConfigKeyLog`` (equality ignores the log).
public struct ConfigTable: Sendable, Hashable {
    /// Dotted path of this table in the document ("" for the root).
    public var path: String
    public var values: [String: ConfigValue]
    /// Where the keys asked for are recorded (nil: not recorded).
    public let log: ConfigKeyLog?

    public init(path: String = "", values: [String: ConfigValue] = [:], log: ConfigKeyLog? = nil) {
        self.path = path
        self.values = values
        self.log = log
    }

    public static func == (a: ConfigTable, b: ConfigTable) -> Bool { a.path == b.path && a.values == b.values }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(path)
        hasher.combine(values)
    }

    /// The keys the document sets here. Enumerating them accepts their names (a table of named
    /// entries such as `[transport]` or a pass-through table).
    public var keys: [String] {
        log?.ask(values.keys.map(keyPath))
        return values.keys.sorted()
    }

    /// The names of the tables set under this one (plugin sections such as `[queue.kafka]`).
    /// Naming them accepts them as sections; their keys are checked against what their plugin reads.
    public var tableNames: [String] {
        let names = values.filter { if case .table = $0.value { true } else { false } }.keys.sorted()
        log?.ask(names.map(keyPath))
        return names
    }

    public func contains(_ key: String) -> Bool {
        log?.ask(keyPath(key))
        return values[key] != nil
    }

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Accepts every key set in this table and below without reading it: a section that is
    /// deliberately not used (a disabled transport), whose keys the unknown-key check passes over.
    public func acceptUnread() {
        guard let log else { return }
        for (key, value) in values {
            log.ask(keyPath(key))
            if case .table(let sub) = value { sub.acceptUnread() }
        }
    }

    /// The sub-table at `key`, or an empty table with the right path when absent.
    public func table(_ key: String) throws(ConfigError) -> ConfigTable {
        log?.ask(keyPath(key))
        switch values[key] {
        case nil: return ConfigTable(path: keyPath(key), log: log)
        case .table(let t): return t
        case .some(let other): throw mismatch(key, "table", other)
        }
    }

    public func string(_ key: String) throws(ConfigError) -> String? {
        log?.ask(keyPath(key))
        switch values[key] {
        case nil: return nil
        case .string(let s): return s
        case .some(let other): throw mismatch(key, "string", other)
        }
    }

    public func string(_ key: String, default value: String) throws(ConfigError) -> String {
        try string(key) ?? value
    }

    public func int(_ key: String) throws(ConfigError) -> Int? {
        log?.ask(keyPath(key))
        switch values[key] {
        case nil: return nil
        case .int(let i): return i
        case .some(let other): throw mismatch(key, "integer", other)
        }
    }

    /// An integer in `range`, or `value` when absent.
    public func int(_ key: String, default value: Int, in range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigError) -> Int {
        guard let i = try int(key) else { return value }
        guard range.contains(i) else {
            throw ConfigError(key: keyPath(key), message: "\(i) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return i
    }

    public func double(_ key: String, default value: Double) throws(ConfigError) -> Double {
        log?.ask(keyPath(key))
        switch values[key] {
        case nil: return value
        case .double(let d): return d
        case .int(let i): return Double(i)
        case .some(let other): throw mismatch(key, "float", other)
        }
    }

    public func bool(_ key: String, default value: Bool) throws(ConfigError) -> Bool {
        log?.ask(keyPath(key))
        switch values[key] {
        case nil: return value
        case .bool(let b): return b
        case .some(let other): throw mismatch(key, "boolean", other)
        }
    }

    /// A duration written as a string like `"250ms"`, `"5s"`, `"4m"`, `"1h30m"`.
    public func duration(_ key: String, default value: Duration) throws(ConfigError) -> Duration {
        guard let text = try string(key) else { return value }
        guard let d = DurationParser.parse(text) else {
            throw ConfigError(key: keyPath(key), message: "\"\(text)\" is not a duration (examples: \"250ms\", \"5s\", \"4m\", \"1h\")")
        }
        return d
    }

    /// A list of strings; a single string is accepted as a one-element list.
    public func stringArray(_ key: String, default value: [String]) throws(ConfigError) -> [String] {
        log?.ask(keyPath(key))
        switch values[key] {
        case nil: return value
        case .string(let s): return [s]
        case .array(let items):
            var out: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item else {
                    throw ConfigError(key: "\(keyPath(key))[\(i)]", message: "expected a string, found \(item.typeName)")
                }
                out.append(s)
            }
            return out
        case .some(let other): throw mismatch(key, "array of strings", other)
        }
    }

    /// A value that must be one of `allowed`.
    public func choice(_ key: String, default value: String, allowed: [String]) throws(ConfigError) -> String {
        let s = try string(key, default: value)
        guard allowed.contains(s) else {
            throw ConfigError(key: keyPath(key), message: "\"\(s)\" is not one of \(allowed.joined(separator: ", "))")
        }
        return s
    }

    private func mismatch(_ key: String, _ expected: String, _ found: ConfigValue) -> ConfigError {
        ConfigError(key: keyPath(key), message: "expected a \(expected), found a \(found.typeName)")
    }
}
