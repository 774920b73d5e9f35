#if canImport(Darwin)
import Foundation
import HeraldProtocol
import NIOCore

/// WebSocket connections over Foundation's `URLSessionWebSocketTask`, the way an iOS or macOS app
/// talks to the network (proxies, VPN, the system's TLS settings). Used for WebSocket endpoints on
/// Apple platforms; TCP endpoints go through SwiftNIO everywhere.
///
/// Apple APIs used: `URLSession.webSocketTask(with:)`, `URLSessionWebSocketTask.resume()`,
/// `send(_:) async throws`, `receive() async throws -> Message` (`.data`, `.string`),
/// `cancel(with:reason:)`, `maximumMessageSize`.
struct URLSessionClientConnector: ClientConnector {
    var session: URLSession = .shared
    var fallback: any ClientConnector

    func open(_ endpoint: HeraldEndpoint, configuration: HeraldClient.Configuration) async throws -> any ClientConnection {
        guard endpoint.transport == .websocket, let url = URL(string: endpoint.description) else {
            return try await fallback.open(endpoint, configuration: configuration)
        }
        let task = session.webSocketTask(with: url)
        task.maximumMessageSize = configuration.maxBodySize + Packet.headerLength * 2
        let connection = URLSessionClientConnection(task: task, maxBodySize: configuration.maxBodySize)
        task.resume()
        return connection
    }
}

final class URLSessionClientConnection: ClientConnection, @unchecked Sendable {
    // `URLSessionWebSocketTask` is thread-safe; the reader task is the only one that yields.
    let task: URLSessionWebSocketTask
    let packets: AsyncThrowingStream<Packet, any Error>
    private let reader: Task<Void, Never>

    init(task: URLSessionWebSocketTask, maxBodySize: Int) {
        self.task = task
        let (stream, continuation) = AsyncThrowingStream<Packet, any Error>.makeStream()
        packets = stream
        reader = Task {
            do {
                while !Task.isCancelled {
                    let bytes: [UInt8]
                    switch try await task.receive() {
                    case .data(let data): bytes = Array(data)
                    case .string(let text): bytes = Array(text.utf8)
                    @unknown default: continue
                    }
                    var buffer = ByteBuffer(bytes: bytes)
                    for packet in try buffer.readWholePacket(maxBodySize: maxBodySize + Packet.headerLength).unwrapped(
                        maxBodySize: maxBodySize)
                    {
                        continuation.yield(packet)
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }

    func send(_ packet: Packet) async throws {
        var buffer = ByteBuffer()
        buffer.writePacket(packet)
        try await task.send(.data(Data(buffer.readableBytesView)))
    }

    func close() async {
        task.cancel(with: .normalClosure, reason: nil)
        reader.cancel()
    }
}
#endif
