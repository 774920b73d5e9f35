import Foundation
import HeraldCore
public import HeraldProtocol
public import Hummingbird

/// How HTTP-based transports show packets as JSON: `{"op":1000,"ver":1,"body":"…"}` (plus `seq`
/// when numbered); a body that is not UTF-8 is base64 with `"base64":true`. A push kept in history,
/// to a client that opted into recovery, names its stream and offset too:
/// `"stream":"room","offset":41` (the packet's `ver` and `seq` on the binary transports).
public enum PacketJSON {
    public static func object(_ packet: Packet, seq: UInt64? = nil) -> [String: Any] {
        var out: [String: Any] = ["op": Int(packet.operation.rawValue), "ver": Int(packet.version)]
        if let seq { out["seq"] = seq }
        if let stream = HistoryStream.Kind(rawValue: packet.version)?.name {
            out["stream"] = stream
            out["offset"] = UInt32(bitPattern: packet.sequence)
        }
        let bytes = Array(packet.body.readableBytesView)
        if let text = String(validating: bytes, as: UTF8.self) {
            out["body"] = text
        } else {
            out["body"] = Data(bytes).base64EncodedString()
            out["base64"] = true
        }
        return out
    }

    /// One packet as JSON text (an SSE `data:` line).
    public static func text(_ packet: Packet) -> String {
        String(decoding: encode(object(packet)), as: UTF8.self)
    }

    /// A JSON response with sorted keys and `Cache-Control: no-store`.
    public static func response(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: encode(object)))
        )
    }

    private static func encode(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}
