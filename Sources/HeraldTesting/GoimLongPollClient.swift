import Atomics
import Foundation
public import HeraldProtocol
import NIOConcurrencyHelpers
public import NIOCore

/// A goim client over Herald's long-poll transport: auth and ops by POST, pushes by polling with
/// acknowledgements. Packets land in the same inbox as the socket clients'.
public final class GoimLongPollClient: GoimClient {
    public let inbox = PacketInbox()
    public var envelopes: Int { 0 }
    private let base: String
    private let state = NIOLockedValueBox(State())
    private let polls = ManagedAtomic<Int>(0)

    private struct State {
        var session: String?
        var ack: UInt64 = 0
        var paused = false
        var stopped = false
        var poller: Task<Void, Never>?
        var received: [UInt64] = []
    }

    private let host: String
    private let port: Int

    public init(host: String, port: Int, path: String = "/sub") {
        self.host = host
        self.port = port
        base = path
    }

    /// Every sequence number received, in order (to check for gaps and repeats).
    public var receivedSequences: [UInt64] { state.withLockedValue { $0.received } }

    public func send(_ packet: Packet) async throws {
        if packet.operation == .auth {
            let (status, json) = try await call("POST", "/auth", body: packet.body)
            guard status == 200, let data = json["data"] as? [String: Any], let session = data["session"] as? String else {
                inbox.close()
                return
            }
            state.withLockedValue { $0.session = session }
            // The op-8 body, when the server sent one (the outcome of a recovery).
            var body = ByteBuffer()
            if let reply = data["reply"], let encoded = try? JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys]) {
                body = ByteBuffer(bytes: encoded)
            }
            inbox.append(Packet(version: packet.version, operation: .authReply, sequence: packet.sequence, body: body))
            startPolling()
            return
        }
        guard let session = state.withLockedValue({ $0.session }) else { throw LongPollClientError.notAuthenticated }
        let (status, json) = try await call("POST", "/op?session=\(session)&op=\(packet.operation.rawValue)", body: packet.body)
        guard status == 200, let data = json["data"] as? [String: Any], let replies = data["replies"] as? [[String: Any]] else {
            if status == 404 { inbox.close() }
            return
        }
        for r in replies { inbox.append(PacketJSON.packet(from: r, sequence: packet.sequence)) }
    }

    public func sendRaw(_ bytes: ByteBuffer) async throws { throw LongPollClientError.unsupported }

    public func pauseReading() async throws { state.withLockedValue { $0.paused = true } }

    public func resumeReading() async throws { state.withLockedValue { $0.paused = false } }

    /// Stops polling without telling the server (a lost network): the session stays until it
    /// times out.
    public func reset() async {
        let poller = state.withLockedValue { s in
            s.stopped = true
            return s.poller
        }
        poller?.cancel()
        inbox.close()
    }

    public func close() async {
        let (session, poller) = state.withLockedValue { s in
            s.stopped = true
            return (s.session, s.poller)
        }
        if let session { _ = try? await call("POST", "/close?session=\(session)", body: ByteBuffer()) }
        poller?.cancel()
        inbox.close()
    }

    private func startPolling() {
        let task = Task { [self] in
            var failures = 0
            while true {
                let (session, ack, paused, stopped) = state.withLockedValue { ($0.session, $0.ack, $0.paused, $0.stopped) }
                if stopped || Task.isCancelled { return }
                if paused {
                    try? await Task.sleep(for: .milliseconds(20))
                    continue
                }
                guard let session else { return }
                guard let (status, json) = try? await call("GET", "/poll?session=\(session)&ack=\(ack)", body: nil) else {
                    // The server cannot be reached: after about a second of failed polls the
                    // connection counts as lost (a client then reconnects, perhaps elsewhere).
                    failures += 1
                    if failures >= 50 {
                        inbox.close()
                        return
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                    continue
                }
                failures = 0
                polls.wrappingIncrement(ordering: .relaxed)
                guard status == 200, let data = json["data"] as? [String: Any] else {
                    inbox.close()
                    return
                }
                for m in data["messages"] as? [[String: Any]] ?? [] {
                    let seq = (m["seq"] as? NSNumber)?.uint64Value ?? 0
                    let isNew = state.withLockedValue { s -> Bool in
                        guard seq > s.ack else { return false }
                        s.ack = seq
                        s.received.append(seq)
                        return true
                    }
                    if isNew { inbox.append(PacketJSON.packet(from: m, sequence: 0)) }
                }
                if data["closed"] != nil {
                    inbox.close()
                    return
                }
            }
        }
        state.withLockedValue { $0.poller = task }
    }

    private func call(_ method: String, _ path: String, body: ByteBuffer?) async throws -> (Int, [String: Any]) {
        let response = try await HTTP1Client.request(
            host: host, port: port, method: method == "GET" ? .GET : .POST, path: base + path, body: body
        )
        let object = try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
        return (response.status, object as? [String: Any] ?? [:])
    }
}

public enum LongPollClientError: Error {
    case notAuthenticated
    case unsupported
}
