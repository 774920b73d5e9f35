/// The keys whose values differ between two configuration documents: the keys a reload changes.
public enum ConfigDiff {
    /// Dotted paths of the values set, removed or changed from `a` to `b`, sorted. An array is
    /// one value (`listen = [...]` is one key); a table is compared key by key.
    public static func changedKeys(_ a: ConfigTable, _ b: ConfigTable) -> [String] {
        var out: [String] = []
        collect(a, b, path: a.path.isEmpty ? b.path : a.path, into: &out)
        return out.sorted()
    }

    private static func collect(_ a: ConfigTable?, _ b: ConfigTable?, path: String, into out: inout [String]) {
        let keys = Set((a?.values.keys).map(Array.init) ?? []).union((b?.values.keys).map(Array.init) ?? [])
        for key in keys {
            let full = path.isEmpty ? key : "\(path).\(key)"
            let x = a?.values[key]
            let y = b?.values[key]
            switch (x, y) {
            case (.table(let t)?, .table(let u)?): collect(t, u, path: full, into: &out)
            case (.table(let t)?, nil): collect(t, nil, path: full, into: &out)
            case (nil, .table(let u)?): collect(nil, u, path: full, into: &out)
            default: if x != y { out.append(full) }
            }
        }
    }
}
