/// Reads the common shape of goim's auth token — one JSON object with only `mid`, `key`, `room_id`,
/// `platform` and `accepts`, each at most once, plain integers, strings with at most the one-character
/// escapes — in one
/// pass over the bytes, without Foundation's `JSONDecoder` (which cost about a tenth of the server's
/// CPU per connection when profiled).
///
/// It answers nil for anything else (a `\u` escape, a `null`, another key, a fraction or exponent, a
/// number out of range, a malformed object); ``AuthToken/parse(_:)`` then uses `JSONDecoder`, so a
/// token it reads is exactly what `JSONDecoder` would read and every error comes from the decoder.
struct AuthTokenScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The token in `bytes`, or nil when it is not of the common shape.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> AuthToken? {
        var scanner = AuthTokenScanner(bytes)
        return scanner.object()
    }

    private enum Key: UInt8 {
        case mid = 1, key = 2, roomID = 4, platform = 8, accepts = 16
    }

    private mutating func object() -> AuthToken? {
        var token = AuthToken()
        var seen: UInt8 = 0
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipSpace()
        if !take(UInt8(ascii: "}")) {
            repeat {
                skipSpace()
                guard let name = plainString(), !name.escaped, let key = key(name.range), seen & key.rawValue == 0 else { return nil }
                seen |= key.rawValue
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                switch key {
                case .mid:
                    guard let mid = integer() else { return nil }
                    token.mid = mid
                case .key, .roomID, .platform:
                    guard let text = plainString(), let value = string(text) else { return nil }
                    if key == .key { token.key = value } else if key == .roomID { token.roomID = value } else { token.platform = value }
                case .accepts:
                    guard let accepts = integers() else { return nil }
                    token.accepts = accepts
                }
                skipSpace()
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")) else { return nil }
        }
        skipSpace()
        return index == bytes.count ? token : nil
    }

    private func key(_ range: Range<Int>) -> Key? {
        switch range.count {
        case 3: return equal(range, "mid") ? .mid : equal(range, "key") ? .key : nil
        case 7: return equal(range, "room_id") ? .roomID : equal(range, "accepts") ? .accepts : nil
        case 8: return equal(range, "platform") ? .platform : nil
        default: return nil
        }
    }

    private func equal(_ range: Range<Int>, _ name: StaticString) -> Bool {
        name.withUTF8Buffer { name in name.count == range.count && name.elementsEqual(bytes[range]) }
    }

    /// `[` integers in Int32 separated by commas `]`.
    private mutating func integers() -> [Int32]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var values: [Int32] = []
        skipSpace()
        if take(UInt8(ascii: "]")) { return values }
        repeat {
            skipSpace()
            guard let value = integer(), let small = Int32(exactly: value) else { return nil }
            values.append(small)
            skipSpace()
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? values : nil
    }

    /// A JSON integer (`-?(0|[1-9][0-9]*)`, no fraction or exponent) that fits in Int64.
    private mutating func integer() -> Int64? {
        let negative = take(UInt8(ascii: "-"))
        let start = index
        var value: Int64 = 0
        while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 {
            let digit = Int64(bytes[index] &- UInt8(ascii: "0"))
            // Accumulated as a negative number, so Int64.min fits.
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.subtractingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            value = next
            index += 1
        }
        let digits = index - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        if index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
            default: break
            }
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    /// The bytes between the quotes of a string with no control character and no `\u` escape;
    /// `escaped` when it holds one of the one-character escapes (`\/` is what Swift's and PHP's
    /// encoders write for every slash).
    private mutating func plainString() -> (range: Range<Int>, escaped: Bool)? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        var escaped = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return (start..<(index - 1), escaped)
            }
            guard byte >= 0x20 else { return nil }
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count, Self.unescaped(bytes[index + 1]) != nil else { return nil }
                escaped = true
                index += 1
            }
            index += 1
        }
        return nil
    }

    /// What a one-character escape stands for; nil for `\u` and anything invalid.
    private static func unescaped(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): byte
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// The string of a ``plainString()``; nil when it is not valid UTF-8.
    private func string(_ string: (range: Range<Int>, escaped: Bool)) -> String? {
        let raw = UnsafeBufferPointer(rebasing: bytes[string.range])
        guard string.escaped else { return Self.validUTF8(raw) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "\\") {
                // plainString() checked every escape; checked again, as this reads unchecked memory.
                guard i + 1 < raw.count, let byte = Self.unescaped(raw[i + 1]) else { return nil }
                out.append(byte)
                i += 2
            } else {
                out.append(raw[i])
                i += 1
            }
        }
        return out.withUnsafeBufferPointer(Self.validUTF8)
    }

    /// The string of `bytes`; nil when they are not valid UTF-8 (decoding replaces what is invalid,
    /// so the bytes come back changed). Works on every platform the client library supports.
    private static func validUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let string = String(decoding: bytes, as: UTF8.self)
        return string.utf8.elementsEqual(bytes) ? string : nil
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }
}
