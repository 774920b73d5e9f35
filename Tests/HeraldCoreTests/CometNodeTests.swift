import Foundation
import HeraldCore
import Testing

/// The registry entry a comet writes (JSON in Redis) is read by logic and job processes that may run
/// another version during an upgrade: its shape stays goim-plain and new fields are optional.
@Suite("comet registry entry")
struct CometNodeTests {
    @Test("an entry written before version and times were reported reads with their defaults")
    func olderEntry() throws {
        let json = #"{"id":"comet-1","addresses":["10.0.0.1"],"weight":7,"connectionCount":3,"ipCount":2,"rpcAddress":"10.0.0.1:3109"}"#
        let node = try JSONDecoder().decode(CometNode.self, from: Data(json.utf8))
        #expect(node.id == CometID("comet-1"))
        #expect(node.addresses == ["10.0.0.1"] && node.weight == 7 && node.connectionCount == 3 && node.ipCount == 2)
        #expect(node.rpcAddress == "10.0.0.1:3109")
        #expect(node.version == "" && node.startedAtMillis == 0 && node.renewedAtMillis == 0)
    }

    @Test("an entry round-trips, with its id a plain string")
    func roundTrip() throws {
        let node = CometNode(
            id: "comet-2", addresses: ["a"], weight: 3, connectionCount: 5, ipCount: 4, rpcAddress: "b:1", version: "1.2.3",
            startedAtMillis: 1_000, renewedAtMillis: 2_000)
        let data = try JSONEncoder().encode(node)
        #expect(String(decoding: data, as: UTF8.self).contains(#""id":"comet-2""#))
        #expect(try JSONDecoder().decode(CometNode.self, from: data) == node)
    }
}
