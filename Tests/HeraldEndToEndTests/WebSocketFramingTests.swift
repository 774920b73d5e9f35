import Foundation
import HeraldTesting
import Testing

/// Herald's own WebSocket handshake and frame decoder, spoken to byte by byte over a plain socket
/// (no WebSocket client library in between).
@Suite("end to end: WebSocket handshake and frames")
struct WebSocketFramingTests {
    static func upgrade(_ s: LoopbackSocket) -> String {
        s.send(
            Array(
                "GET /sub HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                    .utf8))
        let (head, _) = s.read { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
        return String(decoding: head, as: UTF8.self)
    }

    /// A client frame: final, `opcode`, masked with `mask` (or unmasked when nil).
    static func frame(opcode: UInt8, payload: [UInt8], mask: [UInt8]? = [1, 2, 3, 4]) -> [UInt8] {
        var out: [UInt8] = [0x80 | opcode, (mask == nil ? 0 : 0x80) | UInt8(payload.count)]
        if let mask {
            out += mask
            out += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        } else {
            out += payload
        }
        return out
    }

    @Test("the handshake answers RFC 6455's sample key; ping is answered with pong, close with close")
    func handshakePingClose() async throws {
        try await withGateway { g in
            let s = try LoopbackSocket(port: g.wsPort)
            let head = Self.upgrade(s)
            #expect(head.hasPrefix("HTTP/1.1 101"), "\(head)")
            #expect(head.lowercased().contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="), "RFC 6455 §1.3's example: \(head)")

            s.send(Self.frame(opcode: 0x9, payload: Array("hi".utf8)))
            let (pong, _) = s.read { $0.count >= 4 }
            #expect(pong == [0x8A, 2] + Array("hi".utf8), "an unmasked pong with the ping's payload")

            s.send(Self.frame(opcode: 0x8, payload: [0x03, 0xE8]))
            let (reply, closed) = s.read { _ in false }
            #expect(reply == [0x88, 2, 0x03, 0xE8], "the close is answered with the same status")
            #expect(closed)
        }
    }

    @Test("an unmasked client frame, reserved bits or an oversized control frame close that connection as protocol_error")
    func badFramesClose() async throws {
        try await withGateway { g in
            let before = g.closes["protocol_error", default: 0]
            let bad: [[UInt8]] = [
                Self.frame(opcode: 0x2, payload: Array(repeating: 0, count: 16), mask: nil),  // unmasked
                [0xC2, 0x80, 1, 2, 3, 4],  // RSV1 set
                [0x89, 0xFE, 0x00, 0x80, 1, 2, 3, 4] + Array(repeating: 0, count: 128),  // 128-byte ping
                Self.frame(opcode: 0x3, payload: []),  // reserved opcode
            ]
            for bytes in bad {
                let s = try LoopbackSocket(port: g.wsPort)
                #expect(Self.upgrade(s).hasPrefix("HTTP/1.1 101"))
                s.send(bytes)
                let (_, closed) = s.read { _ in false }
                #expect(closed, "closed by the server: \(bytes.prefix(2))")
            }
            #expect(await eventually { g.closes["protocol_error", default: 0] - before == bad.count }, "\(g.closes)")
        }
    }
}
