/// goim's response envelope; `data` is omitted when there is none.
struct Envelope<T: Encodable>: Encodable {
    var code: Int
    var message: String
    var data: T?

    enum CodingKeys: String, CodingKey { case code, message, data }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code, forKey: .code)
        try c.encode(message, forKey: .message)
        if let data, !(data is NoData) { try c.encode(data, forKey: .data) }
    }
}

/// A successful answer without data.
struct NoData: Encodable, Sendable {}
