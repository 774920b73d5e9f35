#if canImport(Darwin)
import Foundation
import HeraldProtocol
import NIOConcurrencyHelpers
import NIOCore

/// WebSocket connections over Foundation's `URLSessionWebSocketTask`, the way an iOS or macOS app
/// talks to the network (proxies, VPN, the system's TLS settings). Used for WebSocket endpoints on
/// Apple platforms; TCP endpoints go through SwiftNIO everywhere.
///
/// Apple APIs used: `URLSession.webSocketTask(with:)` (a `URLRequest` with `timeoutInterval`),
/// `URLSessionTask.delegate` (a per-task delegate, macOS 12 / iOS 15), `URLSessionWebSocketDelegate`'s
/// `urlSession(_:webSocketTask:didOpenWithProtocol:)` and `URLSessionTaskDelegate`'s
/// `urlSession(_:task:didCompleteWithError:)`, `URLSessionWebSocketTask.resume()`,
/// `send(_:) async throws`, `receive() async throws -> Message` (`.data`, `.string`),
/// `cancel(with:reason:)`, `maximumMessageSize`.
struct URLSessionClientConnector: ClientConnector {
    var session: URLSession = .shared
    var fallback: any ClientConnector

    func open(_ endpoint: HeraldEndpoint, configuration: HeraldClient.Configuration) async throws -> any ClientConnection {
        guard endpoint.transport == .websocket, let url = URL(string: endpoint.description) else {
            return try await fallback.open(endpoint, configuration: configuration)
        }
        var request = URLRequest(url: url)
        request.timeoutInterval = ReconnectBackoff.seconds(configuration.connectTimeout)
        let task = session.webSocketTask(with: request)
        task.maximumMessageSize = configuration.maxBodySize + Packet.headerLength * 2
        // Open only once the handshake is through: a server that is down, a refused upgrade or a
        // failed TLS handshake is an unreachable endpoint, not a refused token.
        let opened = OpenSignal()
        task.delegate = opened
        task.resume()
        do {
            try await opened.wait(timeout: configuration.connectTimeout)
        } catch {
            task.cancel(with: .goingAway, reason: nil)
            throw error
        }
        return URLSessionClientConnection(task: task, maxBodySize: configuration.maxBodySize)
    }
}

/// The task's delegate until it opens: resumes the one waiter when the WebSocket handshake
/// completes (`didOpenWithProtocol`), the task ends first (`didCompleteWithError`), or the
/// timeout passes — whichever comes first, once.
final class OpenSignal: NSObject, URLSessionWebSocketDelegate, Sendable {
    private struct State: Sendable {
        var outcome: Result<Void, any Error>?
        var waiter: CheckedContinuation<Void, any Error>?
    }

    private let state = NIOLockedValueBox(State())

    func urlSession(_ session: URLSession, webSocketTask: URLSessionWebSocketTask, didOpenWithProtocol selected: String?) {
        finish(.success(()))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        finish(.failure(error ?? HeraldClientError.connectionLost))
    }

    private func finish(_ outcome: Result<Void, any Error>) {
        let waiter = state.withLockedValue { s -> CheckedContinuation<Void, any Error>? in
            guard s.outcome == nil else { return nil }
            s.outcome = outcome
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(with: outcome)
    }

    func wait(timeout: Duration) async throws {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            finish(.failure(HeraldClientError.timedOut))
        }
        defer { timer.cancel() }
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let done = state.withLockedValue { s -> Result<Void, any Error>? in
                if let outcome = s.outcome { return outcome }
                s.waiter = c
                return nil
            }
            if let done { c.resume(with: done) }
        }
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
