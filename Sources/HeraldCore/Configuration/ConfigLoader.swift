import Foundation
import TOMLKit

/// Reads a TOML document into a ``ConfigTable``.
public enum ConfigLoader {
    public static func load(path: String) throws -> ConfigTable {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(key: "", message: "cannot read configuration file \(path): \(error.localizedDescription)")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String = "configuration") throws -> ConfigTable {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(
                key: "",
                message: "\(source):\(error.source.begin.line):\(error.source.begin.column): \(error.description)"
            )
        }
        return convert(table, path: "", log: ConfigKeyLog())
    }

    private static func convert(_ table: TOMLTable, path: String, log: ConfigKeyLog) -> ConfigTable {
        var values: [String: ConfigValue] = [:]
        for key in table.keys {
            guard let value = table[key] else { continue }
            let sub = path.isEmpty ? key : "\(path).\(key)"
            values[key] = convert(value, path: sub, log: log)
        }
        return ConfigTable(path: path, values: values, log: log)
    }

    private static func convert(_ value: any TOMLValueConvertible, path: String, log: ConfigKeyLog) -> ConfigValue {
        switch value.type {
        case .string: return .string(value.string ?? "")
        case .int: return .int(value.int ?? 0)
        case .double: return .double(value.double ?? 0)
        case .bool: return .bool(value.bool ?? false)
        case .table: return .table(convert(value.table ?? TOMLTable(), path: path, log: log))
        case .array:
            let array = value.array ?? TOMLArray()
            return .array(array.enumerated().map { convert($0.element, path: "\(path)[\($0.offset)]", log: log) })
        default:
            // Dates and times are not used by Herald; keep their text form.
            return .string(value.debugDescription)
        }
    }
}
