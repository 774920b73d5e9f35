import Foundation
import HeraldCore
import Logging
import NIOConcurrencyHelpers
import Testing

@Suite("JSON log format")
struct JSONLogHandlerTests {
    @Test("one JSON object per event with level, label, message and metadata as fields")
    func line() throws {
        let lines = NIOLockedValueBox<[String]>([])
        var logger = Logger(label: "herald.test") { label in
            JSONLogHandler(label: label) { line in lines.withLockedValue { $0.append(line) } }
        }
        logger.logLevel = .info
        logger[metadataKey: "server.id"] = "comet-1"
        logger.debug("hidden")
        logger.warning("connection closed", metadata: ["close.reason": "slow_consumer", "n": "3"])
        let captured = lines.withLockedValue { $0 }
        #expect(captured.count == 1, "below the level nothing is written")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(captured[0].utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "herald.test")
        #expect(object["msg"] as? String == "connection closed")
        #expect(object["close.reason"] as? String == "slow_consumer")
        #expect(object["server.id"] as? String == "comet-1")
        #expect((object["ts"] as? String)?.contains("T") == true)
        #expect(!captured[0].contains("\n"))
    }

    @Test("through LiveLogLevel (as the processes log): the logger's metadata and the call's reach the line")
    func throughLiveLevel() throws {
        // The live level is process-wide and other suites' reloads change it: this logs at
        // critical, which every level shows, and leaves the level alone.
        let lines = NIOLockedValueBox<[String]>([])
        var logger = Logger(label: "herald.test") { label in
            var base = JSONLogHandler(label: label) { line in lines.withLockedValue { $0.append(line) } }
            base.logLevel = .trace
            return LiveLogLevel(base)
        }
        logger[metadataKey: "hb.request.id"] = "42"
        logger.critical("shown", metadata: ["n": "1"])
        let captured = lines.withLockedValue { $0 }
        #expect(captured.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data((captured.first ?? "").utf8)) as? [String: Any])
        #expect(object["hb.request.id"] as? String == "42", "the logger's own metadata")
        #expect(object["n"] as? String == "1", "the call's metadata")
        #expect(logger[metadataKey: "hb.request.id"] == "42")
    }
}
