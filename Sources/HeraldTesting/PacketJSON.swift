import Foundation
import HeraldProtocol
import NIOCore

/// Reads the packets HTTP-based transports send as JSON (`{"op":..,"ver":..,"body":..,"base64":..}`).
enum PacketJSON {
    static func packet(from m: [String: Any], sequence: Int32) -> Packet {
        let op = (m["op"] as? NSNumber)?.int32Value ?? 0
        let text = m["body"] as? String ?? ""
        let body = m["base64"] as? Bool == true ? ByteBuffer(bytes: Data(base64Encoded: text) ?? Data()) : ByteBuffer(string: text)
        // A push kept in history carries its offset, which the binary transports put in `seq`.
        let offset = (m["offset"] as? NSNumber).map { Int32(bitPattern: $0.uint32Value) }
        return Packet(
            version: Int16((m["ver"] as? NSNumber)?.intValue ?? 1), operation: Operation(op), sequence: offset ?? sequence, body: body)
    }
}
