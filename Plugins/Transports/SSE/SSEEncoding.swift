import Foundation
import HeraldProtocol

/// How packets appear in event data and op replies: `{"op":1000,"ver":1,"body":"…"}`; a body that
/// is not UTF-8 is base64 with `"base64":true`.
enum SSEEncoding {
    static func object(_ packet: Packet) -> [String: Any] {
        var out: [String: Any] = ["op": Int(packet.operation.rawValue), "ver": Int(packet.version)]
        let bytes = Array(packet.body.readableBytesView)
        if let text = String(validating: bytes, as: UTF8.self) {
            out["body"] = text
        } else {
            out["body"] = Data(bytes).base64EncodedString()
            out["base64"] = true
        }
        return out
    }

    static func json(_ packet: Packet) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object(packet), options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
