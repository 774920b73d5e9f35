import CZeroMQ
import Foundation
import HeraldCore

/// One zmq socket. zmq sockets are not thread-safe: each is used by one thread at a time (handing
/// it to another thread happens only across a lock, which is the full barrier zmq asks for).
final class ZeroMQSocket: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer

    init(context: UnsafeMutableRawPointer, type: Int32) throws(QueueError) {
        guard let socket = zmq_socket(context, type) else { throw Self.lastError("zmq_socket") }
        pointer = socket
    }

    func set(_ option: Int32, _ value: Int32) throws(QueueError) {
        var v = value
        guard zmq_setsockopt(pointer, option, &v, MemoryLayout<Int32>.size) == 0 else { throw Self.lastError("zmq_setsockopt \(option)") }
    }

    /// Sets a string option (CURVE keys in their 40-character Z85 form).
    func set(_ option: Int32, _ value: String) throws(QueueError) {
        let rc = value.withCString { zmq_setsockopt(pointer, option, $0, strlen($0)) }
        guard rc == 0 else { throw Self.lastError("zmq_setsockopt \(option)") }
    }

    /// Receives every part of one multipart message, or nil when the receive timeout passed first.
    func receiveParts() -> [[UInt8]]? {
        var parts: [[UInt8]] = []
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            guard zmq_msg_recv(&message, pointer, 0) >= 0 else { return parts.isEmpty ? nil : parts }
            let size = zmq_msg_size(&message)
            parts.append(size > 0 ? Array(UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: size)) : [])
            if zmq_msg_more(&message) == 0 { return parts }
        }
    }

    /// Sends `parts` as one multipart message.
    func sendParts(_ parts: [[UInt8]]) {
        for (i, part) in parts.enumerated() {
            let flags = i < parts.count - 1 ? ZMQ_SNDMORE : 0
            _ = part.withUnsafeBytes { zmq_send(pointer, $0.baseAddress, $0.count, flags) }
        }
    }

    func bind(_ endpoint: String) throws(QueueError) {
        guard zmq_bind(pointer, endpoint) == 0 else { throw Self.lastError("bind \(endpoint)") }
    }

    func connect(_ endpoint: String) throws(QueueError) {
        guard zmq_connect(pointer, endpoint) == 0 else { throw Self.lastError("connect \(endpoint)") }
    }

    /// The endpoint actually bound (with the port the system chose for `tcp://host:*`).
    var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        guard zmq_getsockopt(pointer, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sends one message; false when the send timed out at the high-water mark (EAGAIN).
    func send(_ bytes: [UInt8]) throws(QueueError) -> Bool {
        let rc = bytes.withUnsafeBytes { zmq_send(pointer, $0.baseAddress, $0.count, 0) }
        if rc >= 0 { return true }
        if zmq_errno() == EAGAIN { return false }
        throw Self.lastError("zmq_send")
    }

    /// Receives one message, or nil when the receive timeout passed first.
    func receive() -> [UInt8]? {
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        guard zmq_msg_recv(&message, pointer, 0) >= 0 else { return nil }
        let size = zmq_msg_size(&message)
        guard size > 0, let data = zmq_msg_data(&message) else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: size))
    }

    func close() {
        zmq_close(pointer)
    }

    static func lastError(_ what: String) -> QueueError {
        QueueError("zeromq \(what): \(String(cString: zmq_strerror(zmq_errno())))")
    }
}
