import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// One answer of the HTTP API before it is written: status, headers, and the whole body in one
/// buffer. The push endpoints write it straight to their connection (``PushRequestHandler``); the
/// other routes hand it to Hummingbird as a `Response`.
struct APIAnswer {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer

    init(status: HTTPResponse.Status, headers: HTTPFields = [.contentType: "application/json; charset=utf-8"], body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    var response: Response { Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body)) }

    /// goim's envelope around `value`, keys sorted.
    static func envelope<T: Encodable>(status: HTTPResponse.Status, _ value: Envelope<T>) -> APIAnswer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(value)) ?? Data(#"{"code":-500,"message":"encoding failed"}"#.utf8)
        return APIAnswer(status: status, body: ByteBuffer(bytes: data))
    }

    /// A push accepted: `{"code":0,"message":""}`, or with `"data":{"offline_mids":[…]}` when
    /// `offline` lists the users that were offline. Written directly rather than through
    /// `JSONEncoder` (which took about 7% of the server's CPU per unicast push when profiled);
    /// the same bytes as the encoder's sorted-key output.
    static func pushAccepted(offline: [Int64]?) -> APIAnswer {
        var buffer = ByteBuffer()
        buffer.writeStaticString(#"{"code":0,"#)
        if let offline {
            buffer.writeStaticString(#""data":{"offline_mids":["#)
            for (i, mid) in offline.enumerated() {
                if i > 0 { buffer.writeStaticString(",") }
                buffer.writeString(String(mid))
            }
            buffer.writeStaticString("]},")
        }
        buffer.writeStaticString(#""message":""}"#)
        return APIAnswer(status: .ok, body: buffer)
    }

    /// A refusal before any handler ran: `{"code":<code>,"message":"<message>"}` (the message is
    /// a fixed text with nothing to escape).
    static func refusal(_ status: HTTPResponse.Status, code: Int, _ message: String, headers extra: HTTPFields = [:]) -> APIAnswer {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        headers.append(contentsOf: extra)
        return APIAnswer(status: status, headers: headers, body: ByteBuffer(string: #"{"code":\#(code),"message":"\#(message)"}"#))
    }

    /// What a failed request answers: an ``APIError`` with its code (HTTP 503 and `Retry-After`
    /// for -503), 413 for a body over the limit, -500 for anything else.
    static func failure(_ error: any Error) -> APIAnswer {
        switch error {
        case let error as APIError:
            if let retryAfter = error.retryAfter {
                var answer = envelope(status: .serviceUnavailable, Envelope<Int>(code: error.code, message: error.message, data: nil))
                let seconds = max(1, retryAfter.components.seconds + (retryAfter.components.attoseconds > 0 ? 1 : 0))
                answer.headers[.retryAfter] = String(seconds)
                return answer
            }
            return envelope(status: .ok, Envelope<Int>(code: error.code, message: error.message, data: nil))
        case let error as MessageTooLarge:
            return envelope(
                status: .contentTooLarge,
                Envelope<Int>(code: -400, message: "body: message exceeds the limit of \(error.limit) bytes", data: nil)
            )
        default:
            return envelope(status: .ok, Envelope<Int>(code: -500, message: String(describing: error), data: nil))
        }
    }
}

/// A request body over `[logic] max_message_size`.
struct MessageTooLarge: Error { var limit: Int }
