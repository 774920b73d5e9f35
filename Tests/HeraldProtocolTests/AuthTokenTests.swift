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
/// ones with `\u` escapes, nulls, other keys, duplicates, fractions, exponents, leading zeros, numbers out
/// of range, invalid UTF-8, trailing bytes — compared with `JSONDecoder` one by one.
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
    static let oddStrings = [#"\u00e9"#, #"\ud83d\ude00"#, #"bad\x"#, "tab\t", #"end\"#]
    static let plainNumbers = ["0", "1", "-1", "123", "9223372036854775807", "-9223372036854775808", "2147483647", "-2147483648"]
    static let oddNumbers = [
        "01", "1.0", "1e3", "-0", "9223372036854775808", "-9223372036854775809", "2147483648", "1E2", "-", "+1", "0x10",
    ]

    static func token(_ rng: inout SplitMix, odd: Bool) -> [UInt8] {
        func pick(_ list: [String]) -> String { list.randomElement(using: &rng)! }
        func sp() -> String { pick(spaces) }
        var fields: [String] = []
        let names = ["mid", "key", "room_id", "platform", "accepts"].shuffled(using: &rng)
        for name in names.prefix(Int.random(in: 0...5, using: &rng)) {
            let value: String
            switch name {
            case "mid": value = pick(plainNumbers)
            case "accepts":
                let items = (0..<Int.random(in: 0...4, using: &rng)).map { _ in pick(["2147483647", "-2147483648", "0", "1000", "7"]) }
                value = "[" + sp() + items.joined(separator: sp() + "," + sp()) + sp() + "]"
            default: value = "\"" + pick(plainStrings) + "\""
            }
            fields.append("\"\(name)\"" + sp() + ":" + sp() + value)
        }
        var bytes: [UInt8]
        if odd {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: fields.append(#""key":""# + pick(oddStrings) + "\"")
            case 1: fields.append(#""mid":"# + pick(oddNumbers))
            case 2: fields.append(#""accepts":["# + pick(oddNumbers) + "]")
            case 3: fields.append(#""other":1"#)
            case 4: fields.append(#""platform":null"#)
            case 5: fields.append(fields.first ?? #""mid":1"#)  // a duplicate (or one field)
            case 6: fields.append(#""mid":"12""#)
            default: break
            }
            bytes = Array((sp() + "{" + sp() + fields.joined(separator: sp() + "," + sp()) + sp() + "}" + sp()).utf8)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: bytes += Array("x".utf8)
            case 1: bytes.insert(0xFF, at: bytes.count / 2)  // invalid UTF-8 somewhere
            case 2: bytes.removeLast()
            case 3: bytes = Array(bytes.dropFirst(Int.random(in: 0...bytes.count, using: &rng)))
            case 4: bytes.insert(UInt8(ascii: ","), at: max(0, bytes.count - 1))
            default: break
            }
        } else {
            bytes = Array((sp() + "{" + sp() + fields.joined(separator: sp() + "," + sp()) + sp() + "}" + sp()).utf8)
        }
        return bytes
    }

    @Test("what the scanner reads is what JSONDecoder reads; plain tokens are all read by the scanner")
    func agreesWithJSONDecoder() throws {
        var rng = SplitMix(state: 2026)
        var plainRead = 0
        var oddRead = 0
        var oddLeft = 0
        for i in 0..<6000 {
            let odd = i % 2 == 1
            let bytes = Self.token(&rng, odd: odd)
            let decoded = try? JSONDecoder().decode(AuthToken.self, from: Data(bytes))
            let scanned = bytes.withUnsafeBufferPointer(AuthTokenScanner.scan)
            if let scanned {
                #expect(scanned == decoded, "\(String(decoding: bytes, as: UTF8.self))")
                if odd { oddRead += 1 } else { plainRead += 1 }
            } else if odd {
                oddLeft += 1
            } else {
                Issue.record("a plain token was left to the decoder: \(String(decoding: bytes, as: UTF8.self))")
            }
            // Whichever reads it, parse gives the decoder's answer.
            #expect((try? AuthToken.parse(bytes)) == (bytes.isEmpty ? nil : decoded))
        }
        #expect(plainRead == 3000)
        #expect(oddLeft > 1000, "the odd tokens were mostly left to the decoder")
        #expect(oddRead > 0, "some odd tokens are still of the plain shape (a case that changed nothing)")
    }
}
