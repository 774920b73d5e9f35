import HeraldProtocol
import Testing

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
