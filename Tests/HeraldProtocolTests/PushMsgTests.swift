import Foundation
import HeraldProtocol
import Testing

@Suite("PushMsg protobuf")
struct PushMsgTests {
    @Test("PushMsg encodes with goim's field numbers")
    func wireFormat() throws {
        var msg = PushMsg()
        msg.type = .room
        msg.operation = 1000
        msg.room = "live://1"
        msg.msg = Data("hi".utf8)
        let bytes = Array(try msg.serializedData())
        // field 1 varint 1; field 2 varint 1000; field 5 string; field 7 bytes
        let expected: [UInt8] = [0x08, 0x01, 0x10, 0xE8, 0x07, 0x2A, 0x08] + Array("live://1".utf8) + [0x3A, 0x02] + Array("hi".utf8)
        #expect(bytes == expected)
        #expect(try PushMsg(serializedBytes: bytes) == msg)
    }

    @Test("keys, server and speed round-trip")
    func roundTrip() throws {
        var msg = PushMsg()
        msg.type = .push
        msg.server = "comet-1"
        msg.keys = ["a", "b"]
        msg.speed = 5
        let decoded = try PushMsg(serializedBytes: Array(try msg.serializedData()))
        #expect(decoded == msg)
    }
}

@Suite("PushMsg partition key")
struct PushMsgPartitionKeyTests {
    @Test("first key, room, or operation, as goim's logic keys its Kafka messages")
    func keys() {
        var push = PushMsg()
        push.type = .push
        push.keys = ["k2", "k1"]
        #expect(push.partitionKey == "k2")
        var room = PushMsg()
        room.type = .room
        room.room = "live://7"
        #expect(room.partitionKey == "live://7")
        var all = PushMsg()
        all.type = .broadcast
        all.operation = 1000
        #expect(all.partitionKey == "1000")
    }
}
