import CHiredis

/// A Redis reply, copied out of hiredis's reply object.
package enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    init(_ reply: UnsafeMutablePointer<redisReply>) {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            self = .string(r.str.map { Array(UnsafeRawBufferPointer(start: $0, count: r.len)) } ?? [])
        case REDIS_REPLY_STATUS:
            self = .status(r.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: r.len), as: UTF8.self) } ?? "")
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(r.integer))
        case REDIS_REPLY_ARRAY:
            self = .array((0..<Int(r.elements)).map { RedisReply(r.element[$0]!) })
        case REDIS_REPLY_ERROR:
            self = .error(r.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: r.len), as: UTF8.self) } ?? "")
        default:
            self = .null
        }
    }

    package var text: String? {
        switch self {
        case .string(let b): String(decoding: b, as: UTF8.self)
        case .status(let s): s
        case .integer(let i): String(i)
        default: nil
        }
    }

    package var integer: Int64? {
        switch self {
        case .integer(let i): i
        case .string(let b): Int64(String(decoding: b, as: UTF8.self))
        default: nil
        }
    }

    /// A flat array of field/value pairs (HGETALL) as a dictionary.
    package var pairs: [String: String] {
        guard case .array(let items) = self else { return [:] }
        var result: [String: String] = [:]
        var i = 0
        while i + 1 < items.count {
            if let k = items[i].text, let v = items[i + 1].text { result[k] = v }
            i += 2
        }
        return result
    }
}
