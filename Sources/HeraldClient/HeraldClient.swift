import HeraldProtocol
import NIOCore
public import NIOSSL

/// A client of a Herald (or goim) server: it connects to a comet, authenticates, keeps the
/// connection alive with heartbeats, and when the connection is lost comes back with jittered
/// exponential backoff — recovering what it missed when the server keeps history.
///
/// ```swift
/// let client = HeraldClient(configuration: .init(endpoints: [.websocket(host: "push.example.com", port: 443, tls: true)]))
/// try await client.connect(token: HeraldToken(mid: 42, roomID: "live://1000", accepts: [1000]))
/// for await message in client.messages { print(message.operation, message.text) }
/// ```
///
/// ``messages`` and ``states`` each have one reader. Call ``close()`` when done: until then the
/// client keeps reconnecting.
public actor HeraldClient {
    /// Every push, in the order the server wrote it, across reconnects. Ends at ``close()`` or
    /// when the client stops for good.
    public nonisolated let messages: AsyncStream<HeraldMessage>
    /// Every change of ``state`` (the newest 100 are kept for a slow reader).
    public nonisolated let states: AsyncStream<HeraldClientState>
    public nonisolated let configuration: Configuration

    /// Where the connection stands now.
    public private(set) var state: HeraldClientState = .idle
    /// Attempts to connect since the client started, successful or not.
    public private(set) var connectionAttempts = 0
    /// Connections opened (TCP connect, and the upgrade for WebSocket) since the client started.
    public private(set) var connectionsOpened = 0
    /// Connections the server accepted (op 8) since the client started.
    public private(set) var connectionsAccepted = 0
    /// The room's online count in the newest heartbeat reply.
    public private(set) var roomOnline: Int32 = 0

    private let messageSink: AsyncStream<HeraldMessage>.Continuation
    private let stateSink: AsyncStream<HeraldClientState>.Continuation
    private let connector: any ClientConnector

    private var token: HeraldToken?
    private var positions = StreamPositions()
    private var connection: (any ClientConnection)?
    private var loop: Task<Void, Never>?
    private var waiters: [Int32: [Waiter]] = [:]
    private var nextWaiter = 0
    private var firstConnection: [CheckedContinuation<Void, any Error>] = []
    private var endpointIndex = 0
    private var accepted = false
    /// When the heartbeat still unanswered was sent.
    private var heartbeatSentAt: ContinuousClock.Instant?
    private var authTimedOut = false
    private var drained = false
    private var closed = false
    /// Why the client stopped, once it has.
    private var stopReason: HeraldClientError?

    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Packet, any Error>
        var timer: Task<Void, Never>
    }

    private enum SessionEnd {
        /// The connection could not be opened.
        case unreachable
        /// Closed by the server after the token, before op 8.
        case refused
        /// Lost; `lived` is how long it had been accepted (nil: op 8 had not arrived).
        case lost(lived: Duration?)
        /// The server said op 6: reconnect elsewhere.
        case drained
    }

    /// A client with SwiftNIO's connections (on Apple platforms, WebSocket endpoints use URLSession).
    public init(configuration: Configuration) {
        #if canImport(Darwin)
        self.init(configuration: configuration, connector: URLSessionClientConnector(fallback: NIOClientConnector()))
        #else
        self.init(configuration: configuration, connector: NIOClientConnector())
        #endif
    }

    /// A client whose TLS endpoints use `tlsConfiguration` (for example a private CA's roots),
    /// always over SwiftNIO.
    public init(configuration: Configuration, tlsConfiguration: TLSConfiguration) {
        self.init(configuration: configuration, connector: NIOClientConnector(tls: tlsConfiguration))
    }

    init(configuration: Configuration, connector: any ClientConnector) {
        self.configuration = configuration
        self.connector = connector
        (messages, messageSink) = AsyncStream.makeStream(of: HeraldMessage.self)
        (states, stateSink) = AsyncStream.makeStream(of: HeraldClientState.self, bufferingPolicy: .bufferingNewest(100))
    }

    /// Starts the client with `token` and returns once the server accepted a connection. It keeps
    /// trying the endpoints in turn, with backoff, until then. Throws when the client stops first:
    /// the token was refused ``Configuration/maxAuthRefusals`` times, or ``close()`` was called.
    /// Called again on a running client, it changes the token used from the next connection on.
    public func connect(token: HeraldToken) async throws {
        guard !closed else { throw stopReason ?? HeraldClientError.closed }
        guard !configuration.endpoints.isEmpty else { throw HeraldClientError.invalidConfiguration("no endpoints") }
        // Positions belong to an identity: another user or room starts from nothing.
        if let old = self.token, old.mid != token.mid || old.jwt != token.jwt || old.roomID != token.roomID {
            positions = StreamPositions()
        }
        self.token = token
        if loop == nil {
            loop = Task { await self.run() }
        }
        if case .connected = state { return }
        try await withCheckedThrowingContinuation { firstConnection.append($0) }
    }

    /// Moves this connection to `room` (op 12; "" leaves the room) and returns the room the server
    /// put it in — the old one when the server refused the change. Kept across reconnects.
    @discardableResult
    public func changeRoom(_ room: String) async throws -> String {
        let reply = try await request(.changeRoom, Array(room.utf8))
        let now = String(decoding: reply.body.readableBytesView, as: UTF8.self)
        if now != token?.roomID { positions.forgetRoom() }
        token?.roomID = now
        return now
    }

    /// Adds `ops` to the operations this connection takes (op 14) and returns those the server
    /// granted. Kept across reconnects.
    @discardableResult
    public func subscribe(ops: [Int32]) async throws -> [Int32] {
        let granted = Self.ops(try await request(.sub, Array(ops.map(String.init).joined(separator: ",").utf8)))
        var accepts = token?.accepts ?? []
        for op in granted where !accepts.contains(op) { accepts.append(op) }
        token?.accepts = accepts
        return granted
    }

    /// Removes `ops` from the operations this connection takes (op 16). Kept across reconnects.
    public func unsubscribe(ops: [Int32]) async throws {
        let removed = Self.ops(try await request(.unsub, Array(ops.map(String.init).joined(separator: ",").utf8)))
        token?.accepts.removeAll { removed.contains($0) }
    }

    /// Sends a heartbeat now and returns the room's online count from the reply.
    public func heartbeat() async throws -> Int32 {
        let reply = try await request(.heartbeat, [])
        return reply.body.getInteger(at: reply.body.readerIndex, as: Int32.self) ?? 0
    }

    /// Stops the client: closes the connection, ends ``messages`` and ``states``, fails calls
    /// waiting for an answer.
    public func close() async {
        guard !closed else { return }
        closed = true
        stopReason = .closed
        loop?.cancel()
        let open = connection
        connection = nil
        await open?.close()
        failWaiters(.closed)
        resumeFirstConnection(.closed)
        publish(.stopped(.closed))
        messageSink.finish()
        stateSink.finish()
    }

    // MARK: - The connection loop

    private func run() async {
        // Attempts that failed since the last connection that lasted (`stableAfter`).
        var failures = 0
        var refusals = 0
        while !closed {
            let endpoint = configuration.endpoints[endpointIndex % configuration.endpoints.count]
            publish(.connecting(endpoint: endpoint, attempt: failures))
            let end = await session(on: endpoint)
            if closed { return }
            let delay: Duration
            switch end {
            case .unreachable:
                endpointIndex += 1
                delay = configuration.backoff.delay(attempt: failures)
                failures += 1
            case .refused:
                refusals += 1
                if refusals >= configuration.maxAuthRefusals {
                    stop(.authRefused(attempts: refusals))
                    return
                }
                // Another comet may reach an auth backend this one could not.
                endpointIndex += 1
                delay = configuration.backoff.delay(attempt: failures)
                failures += 1
            case .lost(let lived):
                // Accepted: the token is good. A connection that lasted starts the backoff
                // afresh; one lost at once (another client with the same key, a server that
                // accepts and drops) keeps it growing.
                if lived != nil { refusals = 0 }
                if let lived, lived >= configuration.stableAfter { failures = 0 }
                delay = configuration.backoff.delay(attempt: failures)
                failures += 1
            case .drained:
                endpointIndex += 1
                failures = 0
                refusals = 0
                delay = configuration.backoff.delay(attempt: 0)
            }
            publish(.waiting(retryIn: delay))
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
        }
    }

    /// One connection: open, authenticate, read until it ends.
    private func session(on endpoint: HeraldEndpoint) async -> SessionEnd {
        guard let token else { return .unreachable }
        connectionAttempts += 1
        let connection: any ClientConnection
        do {
            connection = try await connector.open(endpoint, configuration: configuration)
        } catch {
            return .unreachable
        }
        connectionsOpened += 1
        if closed {
            await connection.close()
            return .lost(lived: nil)
        }
        self.connection = connection
        accepted = false
        authTimedOut = false
        drained = false
        heartbeatSentAt = nil
        var acceptedAt: ContinuousClock.Instant?
        let body = AuthBody(token: token, recover: configuration.recovers ? positions.recoverField : nil).bytes()
        let authTimeout = configuration.authTimeout
        let authTimer = Task {
            try? await Task.sleep(for: authTimeout)
            guard !Task.isCancelled else { return }
            await self.authTimerFired(connection)
        }
        var heartbeat: Task<Void, Never>?
        do {
            try await connection.send(Packet(version: 1, operation: .auth, sequence: 1, body: ByteBuffer(bytes: body)))
            for try await packet in connection.packets {
                guard accepted else {
                    guard packet.operation == .authReply else { continue }
                    authTimer.cancel()
                    accepted = true
                    acceptedAt = .now
                    connectionsAccepted += 1
                    let recovered = positions.applyAuthReply(Array(packet.body.readableBytesView))
                    heartbeat = startHeartbeat(connection)
                    publish(.connected(endpoint: endpoint, recovered: recovered))
                    resumeFirstConnection(nil)
                    continue
                }
                handle(packet)
                if drained { break }
            }
        } catch {
            // The connection failed; how it ended is decided below.
        }
        authTimer.cancel()
        heartbeat?.cancel()
        if self.connection === connection { self.connection = nil }
        failWaiters(.connectionLost)
        await connection.close()
        if let acceptedAt { return drained ? .drained : .lost(lived: .now - acceptedAt) }
        return authTimedOut ? .lost(lived: nil) : .refused
    }

    private func handle(_ packet: Packet) {
        switch packet.operation {
        case .heartbeatReply:
            heartbeatSentAt = nil
            roomOnline = packet.body.getInteger(at: packet.body.readerIndex, as: Int32.self) ?? 0
            resolve(packet)
        case .changeRoomReply, .subReply, .unsubReply:
            resolve(packet)
        case .disconnectReply:
            // goim's op 6: this server is going away; reconnect elsewhere.
            drained = true
        case .authReply, .handshakeReply:
            break
        default:
            let stream = HeraldStream(packetVersion: packet.version)
            let offset = stream.map { positions.observe($0, sequence: packet.sequence) } ?? 0
            messageSink.yield(
                HeraldMessage(
                    operation: packet.operation.rawValue, body: Array(packet.body.readableBytesView), stream: stream, offset: offset))
        }
    }

    private func authTimerFired(_ connection: any ClientConnection) async {
        guard self.connection === connection, !accepted else { return }
        authTimedOut = true
        await connection.close()
    }

    private func startHeartbeat(_ connection: any ClientConnection) -> Task<Void, Never> {
        let interval = configuration.heartbeatInterval
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, await self.heartbeatTick(connection) else { return }
            }
        }
    }

    /// Sends the periodic heartbeat. While one is unanswered no other is sent; one unanswered for
    /// `heartbeatTimeout` ends the connection (the server is gone without a word).
    private func heartbeatTick(_ connection: any ClientConnection) async -> Bool {
        guard self.connection === connection else { return false }
        if let sent = heartbeatSentAt {
            guard ContinuousClock.now - sent >= configuration.heartbeatTimeout else { return true }
            await connection.close()
            return false
        }
        heartbeatSentAt = .now
        do {
            try await connection.send(Packet(version: 1, operation: .heartbeat, sequence: 2))
            return true
        } catch {
            await connection.close()
            return false
        }
    }

    // MARK: - Calls answered by the server

    private func request(_ operation: HeraldProtocol.Operation, _ body: [UInt8]) async throws -> Packet {
        guard !closed else { throw stopReason ?? HeraldClientError.closed }
        guard accepted, let connection else { throw HeraldClientError.notConnected }
        let reply = operation.rawValue + 1
        let id = nextWaiter
        nextWaiter += 1
        let timeout = configuration.requestTimeout
        return try await withCheckedThrowingContinuation { continuation in
            let timer = Task {
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                self.fail(reply: reply, id: id, .timedOut)
            }
            waiters[reply, default: []].append(Waiter(id: id, continuation: continuation, timer: timer))
            Task {
                do {
                    try await connection.send(Packet(version: 1, operation: operation, sequence: 3, body: ByteBuffer(bytes: body)))
                } catch {
                    self.fail(reply: reply, id: id, .connectionLost)
                }
            }
        }
    }

    private func resolve(_ packet: Packet) {
        guard var queue = waiters[packet.operation.rawValue], !queue.isEmpty else { return }
        let waiter = queue.removeFirst()
        waiters[packet.operation.rawValue] = queue
        waiter.timer.cancel()
        waiter.continuation.resume(returning: packet)
    }

    private func fail(reply: Int32, id: Int, _ error: HeraldClientError) {
        guard let index = waiters[reply]?.firstIndex(where: { $0.id == id }), let waiter = waiters[reply]?.remove(at: index) else { return }
        waiter.timer.cancel()
        waiter.continuation.resume(throwing: error)
    }

    private func failWaiters(_ error: HeraldClientError) {
        let all = waiters.values.flatMap { $0 }
        waiters = [:]
        for waiter in all {
            waiter.timer.cancel()
            waiter.continuation.resume(throwing: error)
        }
    }

    // MARK: - State

    private func publish(_ new: HeraldClientState) {
        guard new != state else { return }
        state = new
        stateSink.yield(new)
    }

    private func stop(_ error: HeraldClientError) {
        closed = true
        stopReason = error
        failWaiters(error)
        resumeFirstConnection(error)
        publish(.stopped(error))
        messageSink.finish()
        stateSink.finish()
    }

    private func resumeFirstConnection(_ error: HeraldClientError?) {
        let waiting = firstConnection
        firstConnection = []
        for c in waiting {
            if let error { c.resume(throwing: error) } else { c.resume() }
        }
    }

    private static func ops(_ reply: Packet) -> [Int32] {
        String(decoding: reply.body.readableBytesView, as: UTF8.self).split(separator: ",").compactMap {
            Int32($0.trimmingCharacters(in: .whitespaces))
        }
    }
}
