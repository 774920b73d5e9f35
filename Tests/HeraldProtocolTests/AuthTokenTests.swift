import Foundation
import Testing

@testable import HeraldProtocol

@Suite("auth token")
struct AuthTokenTests {
    @Test("goim's JS client token parses")
    func goimToken() throws {
        let token = try AuthToken.parse(Array(#"{"mid":123, "room_id":"live://1000", "platform":"web", "accepts":[1000,1001,1002]}"#.utf8))
        #expect(token == AuthToken(mid: 123, key: "", roomID: "live://1000", platform: "web", accepts: [1000, 1001, 1002]))
    }

    @Test("missing fields read as zero values")
    func empty() throws {
        #expect(try AuthToken.parse(Array("{}".utf8)) == AuthToken())
    }

    @Test(
        "invalid tokens are refused with a reason", arguments: ["", "not json", "[1,2]", #"{"mid":"abc"}"#, #"{"accepts":[99999999999]}"#])
    func invalid(text: String) {
        #expect(throws: AuthTokenError.self) { try AuthToken.parse(Array(text.utf8)) }
    }

    @Test("a token survives a JSON round trip")
    func roundTrip() throws {
        let token = AuthToken(mid: 9, key: "k", roomID: "r://1", platform: "ios", accepts: [1])
        #expect(try AuthToken.parse(token.jsonBytes()) == token)
    }
}

/// The scanner that reads the common token shape without `JSONDecoder` must read exactly what the
/// decoder reads, and leave everything else to it: thousands of generated tokens — plain ones, and
/// ones mutated at random places: `\u` escapes, `null`s and booleans, near-miss and other keys,
/// duplicates with another value, fractions, exponents, leading zeros, numbers out of range, invalid
/// UTF-8, whitespace look-alikes, byte flips, and every prefix of some — compared with
/// `JSONDecoder` one by one, strings byte for byte.
@Suite("auth token scanner")
struct AuthTokenScannerTests {
    /// A fixed-seed generator, so a failure is reproducible.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let spaces = ["", " ", "\n", "\t ", "\r\n"]
    static let plainStrings = [
        "", "k", "live://1000", #"live:\/\/1000"#, "web", "héllo", "房间", "a b", #"a\"b"#, #"x\\y"#, #"tab\t\n\r\b\f"#,
    ]
    static let oddStrings = [#"\u00e9"#, #"\ud83d\ude00"#, #"bad\x"#, "tab\t", #"end\"#, #"x\\"#, #"\U0041"#, "del\u{7F}"]
    static let plainNumbers = ["0", "1", "-1", "123", "9223372036854775807", "-9223372036854775808", "2147483647", "-2147483648"]
    static let oddNumbers = [
        "01", "-01", "-00", "1.0", "1e3", "-0", "9223372036854775808", "-9223372036854775809", "2147483648", "-2147483649", "1E2",
        "-", "+1", "0x10", "- 1", "123456789012345678901", "true", "false", "null", #""12""#, "[1]", "{}",
    ]
    static let oddKeys = ["mi", "midd", "MID", "kez", "room_iD", "acceptz", "platforn", #"\u006did"#, "other", ""]
    static let oddArrays = ["[1,]", "[,]", "[[1]]", "[null]", "[1 2]", "[", "[2147483648]", "[1.5]", "[01]"]
    /// Invalid UTF-8 and control bytes to put inside a string: overlong, surrogate, above U+10FFFF,
    /// a lone lead byte, NUL.
    static let badBytes: [[UInt8]] = [
        [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3], [0xFF], [0x00], [0x1F],
    ]
    /// Whitespace look-alikes JSON does not allow between tokens: form feed, vertical tab, NUL, NBSP, BOM.
    static let badSpaces: [[UInt8]] = [[0x0C], [0x0B], [0x00], [0xC2, 0xA0], [0xEF, 0xBB, 0xBF]]

    static func field(_ name: String, _ rng: inout SplitMix) -> String {
        func pick(_ list: [String]) -> String { list.randomElement(using: &rng)! }
        func sp() -> String { pick(spaces) }
        let value: String
        switch name {
        case "mid": value = pick(plainNumbers)
        case "accepts":
            let items = (0..<Int.random(in: 0...4, using: &rng)).map { _ in pick(["2147483647", "-2147483648", "0", "1000", "7"]) }
            value = "[" + sp() + items.joined(separator: sp() + "," + sp()) + sp() + "]"
        default: value = "\"" + pick(plainStrings) + "\""
        }
        return "\"\(name)\"" + sp() + ":" + sp() + value
    }

    static func object(_ fields: [String], _ rng: inout SplitMix) -> [UInt8] {
        func sp() -> String { spaces.randomElement(using: &rng)! }
        return Array((sp() + "{" + sp() + fields.joined(separator: sp() + "," + sp()) + sp() + "}" + sp()).utf8)
    }

    static func plain(_ rng: inout SplitMix) -> [UInt8] {
        let names = ["mid", "key", "room_id", "platform", "accepts"].shuffled(using: &rng)
        let fields = names.prefix(Int.random(in: 0...5, using: &rng)).map { field($0, &rng) }
        return object(fields, &rng)
    }

    /// A plain token with one or two oddities at random places.
    static func odd(_ rng: inout SplitMix) -> [UInt8] {
        func pick(_ list: [String]) -> String { list.randomElement(using: &rng)! }
        let names = ["mid", "key", "room_id", "platform", "accepts"]
        var fields = names.shuffled(using: &rng).prefix(Int.random(in: 0...5, using: &rng)).map { field($0, &rng) }
        func insert(_ field: String) { fields.insert(field, at: Int.random(in: 0...fields.count, using: &rng)) }
        var bytes: [UInt8] = []
        for _ in 0..<Int.random(in: 1...2, using: &rng) {
            switch Int.random(in: 0..<7, using: &rng) {
            case 0: insert(#""\#(pick(["key", "room_id", "platform"]))":"\#(pick(oddStrings))""#)
            case 1: insert(#""mid":\#(pick(oddNumbers))"#)
            case 2: insert(#""accepts":\#(pick(oddArrays + ["[" + pick(oddNumbers) + "]"]))"#)
            case 3: insert(#""\#(pick(oddKeys))":\#(pick(["1", #""x""#, "null", "[]"]))"#)
            case 4: insert(#""\#(pick(["key", "room_id", "platform"]))":\#(pick(["null", "true", "false", "1", "[]"]))"#)
            case 5:
                // The same key twice with different values.
                let name = names.randomElement(using: &rng)!
                insert(name == "mid" ? #""mid":1"# : name == "accepts" ? #""accepts":[1]"# : #""\#(name)":"a""#)
                insert(name == "mid" ? #""mid":2"# : name == "accepts" ? #""accepts":[2]"# : #""\#(name)":"b""#)
            default: break
            }
        }
        bytes = object(fields, &rng)
        switch Int.random(in: 0..<8, using: &rng) {
        case 0:
            // Invalid bytes inside a string value, next to an escape or not.
            if let quote = bytes.indices.filter({ bytes[$0] == UInt8(ascii: "\"") }).randomElement(using: &rng) {
                let bad = badBytes.randomElement(using: &rng)!
                bytes.insert(contentsOf: Bool.random(using: &rng) ? bad : Array(#"\n"#.utf8) + bad, at: quote + 1)
            }
        case 1: bytes.insert(contentsOf: badSpaces.randomElement(using: &rng)!, at: Int.random(in: 0...bytes.count, using: &rng))
        case 2 where !bytes.isEmpty: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
        case 3 where !bytes.isEmpty: bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
        case 4: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
        case 5: bytes += Array(pick(["x", ",", "}", "{}", "\u{0C}"]).utf8)
        default: break
        }
        return bytes
    }

    /// Equal, strings compared byte for byte (`==` on String would also take canonically equivalent ones).
    static func same(_ a: AuthToken, _ b: AuthToken) -> Bool {
        a.mid == b.mid && a.accepts == b.accepts && Array(a.key.utf8) == Array(b.key.utf8)
            && Array(a.roomID.utf8) == Array(b.roomID.utf8) && Array(a.platform.utf8) == Array(b.platform.utf8)
    }

    /// Checks one input; true when the scanner read it.
    static func check(_ bytes: [UInt8]) -> Bool {
        let decoded = try? JSONDecoder().decode(AuthToken.self, from: Data(bytes))
        let scanned = bytes.withUnsafeBufferPointer(AuthTokenScanner.scan)
        if let scanned {
            #expect(decoded.map { same(scanned, $0) } == true, "scanner and decoder differ on \(bytes)")
        }
        // Whichever reads it, parse gives the decoder's answer.
        let parsed = try? AuthToken.parse(bytes)
        #expect(parsed.map { p in decoded.map { same(p, $0) } ?? false } ?? (bytes.isEmpty || decoded == nil), "\(bytes)")
        return scanned != nil
    }

    @Test("what the scanner reads is what JSONDecoder reads; plain tokens are all read by the scanner")
    func agreesWithJSONDecoder() throws {
        var rng = SplitMix(state: 2026)
        var plainLeft: [[UInt8]] = []
        var oddRead = 0
        var oddLeft = 0
        for i in 0..<3000 {
            let plain = Self.plain(&rng)
            if !Self.check(plain) { plainLeft.append(plain) }
            let odd = Self.odd(&rng)
            if Self.check(odd) { oddRead += 1 } else { oddLeft += 1 }
            // Every prefix of some: input cut inside a string, after a backslash, inside a number.
            if i % 20 == 0 {
                for k in 0..<odd.count { _ = Self.check(Array(odd[..<k])) }
                for k in 0..<plain.count { _ = Self.check(Array(plain[..<k])) }
            }
        }
        #expect(plainLeft.isEmpty, "plain tokens left to the decoder: \(plainLeft.prefix(3).map { String(decoding: $0, as: UTF8.self) })")
        #expect(oddLeft > 1500, "the odd tokens were mostly left to the decoder")
        #expect(oddRead > 0, "some mutations keep the plain shape (a flipped byte inside a string)")
    }
}
