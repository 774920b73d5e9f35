public import HeraldProtocol
public import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A goim client over some transport, for tests and the load tool.
public protocol GoimClient: AnyObject, Sendable {
    /// Received packets. Pushes arrive as their inner packets (a WebSocket op-9 envelope is unwrapped).
    var inbox: PacketInbox { get }
    /// Number of op-9 envelopes received (WebSocket).
    var envelopes: Int { get }
    func send(_ packet: Packet) async throws
    /// Sends raw bytes as they are (TCP) or as one binary message (WebSocket).
    func sendRaw(_ bytes: ByteBuffer) async throws
    /// Stops reading from the socket (a client that cannot keep up).
    func pauseReading() async throws
    /// Reads again after ``pauseReading()``.
    func resumeReading() async throws
    func close() async
    /// Drops the connection without a goodbye, as a lost network does.
    func reset() async
}

extension GoimClient {
    public func reset() async { await close() }

    /// Sends op 7 with `token` and waits for op 8. Returns false when the server did not accept.
    public func authenticate(_ token: AuthToken, timeout: Duration = .seconds(5)) async throws -> Bool {
        try await send(Packet(version: 1, operation: .auth, sequence: 1, body: ByteBuffer(bytes: token.jsonBytes())))
        guard let reply = await inbox.next(timeout: timeout) else { return false }
        return reply.operation == .authReply
    }

    /// Sends a heartbeat and returns the room online count of the reply, or nil without a reply.
    public func heartbeat(timeout: Duration = .seconds(5)) async throws -> Int32? {
        try await send(Packet(version: 1, operation: .heartbeat, sequence: 2))
        guard let reply = await inbox.next(timeout: timeout), reply.operation == .heartbeatReply else { return nil }
        return reply.body.getInteger(at: reply.body.readerIndex, as: Int32.self)
    }

    /// Sends an op with a text body and waits for the reply packet.
    public func request(_ op: Operation, _ body: String, timeout: Duration = .seconds(5)) async throws -> Packet? {
        try await send(Packet(version: 1, operation: op, sequence: 3, body: ByteBuffer(string: body)))
        return await inbox.next(timeout: timeout)
    }
}

/// A client with one NIO channel: reading is paused and resumed with `autoRead`.
protocol ChannelGoimClient: GoimClient {
    var channel: any Channel { get }
}

extension ChannelGoimClient {
    public func pauseReading() async throws {
        try await channel.setOption(.autoRead, value: false)
    }

    public func resumeReading() async throws {
        try await channel.setOption(.autoRead, value: true)
        channel.read()
    }

    public func close() async {
        try? await channel.close()
    }

    /// Drops the connection as a lost network does: the socket is closed with an RST (SO_LINGER
    /// 0), not a FIN, so the server learns of it only from the reset.
    public func reset() async {
        // The socket is the innermost channel; a WebSocket client's channel is that socket too.
        if let socket = channel as? any SocketOptionProvider {
            try? await socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close()
    }
}
