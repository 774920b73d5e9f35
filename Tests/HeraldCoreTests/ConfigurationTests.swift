import HeraldCore
import HeraldPluginSupport
import Testing

@Suite("configuration")
struct ConfigurationTests {
    @Test(
        "durations parse goim's notation",
        arguments: [
            ("5s", Duration.seconds(5)), ("250ms", .milliseconds(250)), ("4m", .seconds(240)),
            ("1h30m", .seconds(5400)), ("1.5s", .milliseconds(1500)), ("0", .zero), ("10us", .microseconds(10)),
        ])
    func durations(text: String, expected: Duration) {
        #expect(DurationParser.parse(text) == expected)
    }

    @Test("bad durations are rejected", arguments: ["", "5", "s", "5 parsecs", "1x"])
    func badDurations(text: String) {
        #expect(DurationParser.parse(text) == nil)
    }

    @Test("TOML reads into typed values with key paths in errors")
    func typedAccess() throws {
        let table = try ConfigLoader.parse(
            """
            [comet]
            buckets = 16
            handshake_timeout = "8s"
            name = 3
            [transport.tcp]
            listen = [":3101", "127.0.0.1:4000"]
            """)
        let comet = try table.table("comet")
        #expect(try comet.int("buckets", default: 32) == 16)
        #expect(try comet.duration("handshake_timeout", default: .seconds(5)) == .seconds(8))
        #expect(try comet.int("absent", default: 7) == 7)
        #expect(throws: ConfigError(key: "comet.name", message: "expected a string, found a integer")) {
            try comet.string("name")
        }
        #expect(throws: ConfigError.self) { try comet.int("buckets", default: 1, in: 1...8) }
        let listen = try ListenAddress.list(from: try table.table("transport").table("tcp"), default: [])
        #expect(listen == [ListenAddress(host: "0.0.0.0", port: 3101), ListenAddress(host: "127.0.0.1", port: 4000)])
    }

    @Test("invalid TOML names the line")
    func parseError() {
        #expect(throws: ConfigError.self) { try ConfigLoader.parse("[comet\nx = 1") }
    }

    @Test("host:port parsing", arguments: [(":3111", "0.0.0.0", 3111), ("[::1]:80", "::1", 80), ("h:0", "h", 0)])
    func hostPort(text: String, host: String, port: Int) throws {
        let parsed = try HostPort.parse(text, key: "k")
        #expect(parsed.host == host && parsed.port == port)
    }

    @Test("host:port errors", arguments: ["3111", "h:99999", "h:x", "[::1]80"])
    func hostPortErrors(text: String) {
        #expect(throws: ConfigError.self) { try HostPort.parse(text, key: "k") }
    }
}
