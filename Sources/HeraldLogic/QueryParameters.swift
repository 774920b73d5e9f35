import Hummingbird

/// goim's query parameters: lists may repeat the key (`keys=a&keys=b`) or use commas (`keys=a,b`).
/// A bad value raises ``APIError/badRequest(_:)`` naming the parameter.
struct QueryParameters {
    let parameters: Parameters

    func list(_ name: String) -> [String] {
        parameters.getAll(name).flatMap { $0.split(separator: ",") }.map { String($0).trimmed }.filter { !$0.isEmpty }
    }

    func string(_ name: String, required: Bool) throws(APIError) -> String? {
        let value = parameters.get(name)?.trimmed
        if required, value == nil || value!.isEmpty { throw .badRequest("\(name): required parameter is missing") }
        return value
    }

    func int32(_ name: String, required: Bool, nonZero: Bool = false) throws(APIError) -> Int32? {
        guard let text = try string(name, required: required), !text.isEmpty else { return nil }
        guard let value = Int32(text) else { throw .badRequest("\(name): \"\(text)\" is not a 32-bit integer") }
        if nonZero, value == 0 { throw .badRequest("\(name): must not be 0") }
        return value
    }

    func int64List(_ name: String) throws(APIError) -> [Int64] {
        var out: [Int64] = []
        for text in list(name) {
            guard let v = Int64(text) else { throw .badRequest("\(name): \"\(text)\" is not an integer") }
            out.append(v)
        }
        return out
    }
}

extension String {
    /// Without the spaces and tabs at either end. Most values have none: those are returned as
    /// they are, without Foundation's character-set scan (a measurable cost per push).
    var trimmed: String {
        let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard let first = utf8.first, let last = utf8.last, isBlank(first) || isBlank(last) else { return self }
        return trimmingCharacters(in: .whitespaces)
    }
}
