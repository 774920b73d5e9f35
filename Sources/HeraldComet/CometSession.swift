import HeraldCore
import HeraldProtocol
import Logging
import NIOCore

/// The comet core's state for one client connection, whatever its transport.
///
/// Confined to its link's event loop. Holds no buffers while idle: a connection costs this object,
/// its index slots and its transport's channel.
final class CometSession: ClientSession, @unchecked Sendable {
    // Immutable after init; safe to read from any thread.
    let shard: LoopShard
    let framing: any PacketFraming
    private unowned let comet: Comet

    // Event-loop confined state.
    private var link: (any ClientLink)?
    private var machine: ConnectionStateMachine
    private(set) var key = ""
    private(set) var mid: Int64 = 0
    private(set) var room = ""
    private var ip: String?
    private var acceptedOps: Set<Int32> = []
    /// What ops 12 and 14 may change (jwt and http auth); nil: anything, as in goim.
    private var grants: Grants?
    /// Set when the client opted into recovery (`"recover"` in its op-7 body); nil for goim's
    /// clients, which see goim's bytes.
    private var cursor: HistoryCursor?
    /// The recovery a client asked for, between its op 7 and the auth reply.
    private var recoveryRequest: RecoveryRequest?
    private var heartbeat: Duration = .seconds(480)
    // Small fields together, so they share one word of the object (a connection's memory).
    private var replaced = false
    /// Set when admission refused the connection: it is about to be closed; nothing it sends counts.
    var refused = false
    private var upstreamInFlight: UInt16 = 0
    private var buffered: [Packet] = []
    private var budget: PacketBudget
    private var nextLogicHeartbeat: NIODeadline = .distantFuture
    var deadline: NIODeadline
    var shardIndex = -1
    var roomIndex = -1

    init(comet: Comet, shard: LoopShard, link: any ClientLink) {
        self.comet = comet
        self.shard = shard
        self.link = link
        self.framing = link.framing
        self.machine = ConnectionStateMachine(maxBufferedPackets: comet.configuration.maxPacketsBeforeAuth)
        self.budget = PacketBudget(burst: comet.configuration.packetBurst)
        self.deadline = .now() + .nanoseconds(comet.configuration.handshakeTimeout.nanoseconds)
    }

    var isActive: Bool { machine.isActive }

    func accepts(_ operation: Int32) -> Bool { acceptedOps.contains(operation) }

    // MARK: ClientSession

    func receive(_ packet: Packet) {
        guard !refused else { return }
        guard budget.take(rate: comet.configuration.packetRate, burst: comet.configuration.packetBurst) else {
            link?.close(.packetRateExceeded)
            return
        }
        switch machine.packetReceived(packet.operation) {
        case .authenticate: authenticate(packet)
        case .buffer: buffered.append(packet)
        case .ignore:
            comet.logger.debug("packet before auth ignored", metadata: ["packet.op": "\(packet.operation)"])
        case .handle:
            if let cursor, cursor.isRecovering {
                // Answered after the replay, in order: the auth reply comes first.
                guard buffered.count < comet.configuration.maxPacketsBeforeAuth else {
                    link?.close(.tooManyPendingPackets)
                    return
                }
                buffered.append(packet)
            } else {
                handle(packet)
            }
        case .close(let reason): link?.close(reason)
        }
    }

    /// Set when the connection took an admission slot (the IP it was counted under).
    var admittedIP: String??

    func linkClosed(_ reason: CloseReason) {
        if let ip = admittedIP {
            comet.admission.release(ip)
            admittedIP = nil
        }
        link = nil
        buffered = []
        shard.remove(self)
        switch machine.linkClosed() {
        case .unregister:
            comet.bucket(for: key).remove(key, ifIdenticalTo: self)
            comet.ips.remove(ip)
            if !room.isEmpty {
                shard.leave(self, room: room)
                comet.roomOnline.leave(room)
            }
            comet.metrics.connectionClosed(replaced ? .replaced : reason, logger: comet.logger)
            // A replaced connection's mapping now belongs to its successor: leave it in place.
            if !replaced { comet.logicDisconnect(mid: mid, key: key) }
        case .none:
            comet.metrics.recordClose(reason, logger: comet.logger)
        }
    }

    // MARK: Deadlines and delivery

    func deadlinePassed() {
        guard let reason = machine.deadlinePassed() else { return }
        link?.close(reason)
    }

    /// Writes a push, framed for this connection. Returns false when it was not written (slow
    /// consumer, or a recovering connection that cannot hold more).
    func deliver(_ cache: inout FramedPushCache) -> Bool {
        guard let link else { return false }
        if let cursor, cursor.isRecovering {
            guard cursor.hold(cache.payload) else {
                link.close(Self.recoveryOverflow)
                return false
            }
            return true
        }
        guard link.isWritable else {
            // A connection that recovers is closed rather than left with a gap: its client
            // reconnects and gets what it missed.
            switch (comet.configuration.slowConsumerPolicy, cursor) {
            case (.drop, nil): break
            default: link.close(.slowConsumer)
            }
            return false
        }
        guard let cursor else {
            link.send(cache.bytes(for: framing))
            return true
        }
        let payload = cache.payload
        if cursor.admitsAll(payload) {
            link.send(cache.positionedBytes(for: framing))
            cursor.advance(payload)
        } else {
            // Some packets are ones this connection has (replayed, or redelivered): only the rest.
            let rest = payload.positioned(
                keeping: { offset, epoch in
                    guard cursor.admits(payload.kind, offset: offset, epoch: epoch) else { return false }
                    cursor.advance(payload.kind, offset: offset, epoch: epoch)
                    return true
                },
                allocator: comet.allocator
            )
            if rest.readableBytes > 0 { link.send(framing.frame(batch: rest, allocator: comet.allocator)) }
        }
        return true
    }

    static let recoveryOverflow = CloseReason("recovery_overflow")

    /// Closes because a newer connection took this key.
    func replace() {
        replaced = true
        link?.close(.replaced)
    }

    /// Set once a shutdown close was sent (the link closes asynchronously).
    private(set) var isClosing = false

    /// Tells an authenticated client to reconnect elsewhere (op 6, goim's disconnect reply) and closes.
    func closeForShutdown() {
        guard let link, !isClosing else { return }
        isClosing = true
        if isActive {
            link.send(framing.frame(Packet(version: 1, operation: .disconnectReply, sequence: 0), allocator: comet.allocator))
        }
        link.close(.serverShutdown)
    }

    // MARK: Auth

    private func authenticate(_ request: Packet) {
        let token = Array(request.body.readableBytesView)
        recoveryRequest = RecoveryRequest.parse(token)
        if let local = comet.localLogic {
            do {
                if let reply = try local.connectNow(server: comet.serverID, cookie: "", token: token) {
                    authCompleted(.success(reply), request: request)
                    return
                }
            } catch {
                authCompleted(.failure(error), request: request)
                return
            }
        }
        let loopBound = NIOLoopBound(self, eventLoop: shard.eventLoop)
        let comet = self.comet
        Task {
            let result: Result<ConnectReply, any Error>
            do {
                result = .success(try await comet.logic.connect(server: comet.serverID, cookie: "", token: token))
            } catch {
                result = .failure(error)
            }
            loopBound.eventLoop.execute {
                loopBound.value.authCompleted(result, request: request)
            }
        }
    }

    private func authCompleted(_ result: Result<ConnectReply, any Error>, request: Packet) {
        switch result {
        case .success(let reply):
            switch machine.authSucceeded() {
            case .activate: activate(reply, request: request)
            case .undoMapping: comet.logicDisconnect(mid: reply.mid, key: reply.key)
            case .close, .none: break
            }
        case .failure(let error):
            comet.metrics.authRefused()
            if case .close(let reason) = machine.authFailed(String(describing: error)) {
                link?.close(reason)
            }
        }
    }

    private func activate(_ reply: ConnectReply, request: Packet) {
        guard let link else { return }
        key = reply.key
        mid = reply.mid
        acceptedOps = Set(reply.accepts)
        grants = reply.grants.map(Grants.init)
        heartbeat = reply.heartbeat
        comet.metrics.authSucceeded()
        comet.metrics.connectionOpened()
        ip = link.remoteAddress?.ipAddress
        comet.ips.add(ip)
        if let old = comet.bucket(for: key).put(key, self) {
            old.shard.eventLoop.execute { old.replace() }
        }
        if !reply.roomID.isEmpty && !enterRoom(reply.roomID) {
            // max_rooms: this comet cannot hold one more room.
            link.close(Comet.tooManyRooms)
            return
        }
        let now = NIODeadline.now()
        deadline = now + .nanoseconds(heartbeat.nanoseconds)
        nextLogicHeartbeat = now + comet.randomLogicHeartbeatGap()
        let pending = buffered
        buffered = []
        if let wanted = recoveryRequest {
            recoveryRequest = nil
            recover(wanted, authRequest: request, then: pending)
            return
        }
        link.send(framing.frame(request.reply(.authReply), allocator: comet.allocator))
        for packet in pending where self.link != nil { handle(packet) }
    }

    // MARK: Recovery

    /// Subscribed already (key and room are registered): holds live pushes, reads what the client
    /// missed, then writes the auth reply (with the outcome), the replay and what was held.
    private func recover(_ wanted: RecoveryRequest, authRequest: Packet, then pending: [Packet]) {
        let cursor = HistoryCursor(maxHeldBytes: max(comet.configuration.limits.outboundHighWater, 256 * 1024))
        self.cursor = cursor
        buffered = pending
        let settings = comet.historySettings
        let reads = HistoryStream.Kind.allCases.compactMap { kind in
            settings.stream(kind, mid: mid, roomID: room).map { RecoveryRead(kind: kind, stream: $0, since: wanted.since[kind]) }
        }
        // A position for a stream this connection does not have (history off, not kept) cannot
        // be recovered.
        let unknown = wanted.since.keys.contains { kind in !reads.contains { $0.kind == kind } }
        guard let history = comet.history, !reads.isEmpty else {
            finishRecovery(RecoveryOutcome(reads: [], unknownStream: !wanted.since.isEmpty), authRequest: authRequest)
            return
        }
        let limit = settings.recoverLimit
        let loopBound = NIOLoopBound(self, eventLoop: shard.eventLoop)
        Task {
            var done: [RecoveryRead] = []
            for var read in reads {
                do {
                    read.page = try await history.read(read.stream, after: read.since?.offset ?? 0, limit: read.since == nil ? 0 : limit)
                } catch {
                    read.failure = String(describing: error)
                }
                done.append(read)
            }
            let outcome = RecoveryOutcome(reads: done, unknownStream: unknown)
            loopBound.eventLoop.execute {
                loopBound.value.finishRecovery(outcome, authRequest: authRequest)
            }
        }
    }

    /// Writes the auth reply, the replay and the held live pushes, then answers what the client
    /// sent meanwhile.
    private func finishRecovery(_ outcome: RecoveryOutcome, authRequest: Packet) {
        guard let link, let cursor else { return }
        comet.metrics.recovery(outcome.recovered)
        if let failure = outcome.reads.compactMap(\.failure).first {
            comet.logger.warning("history read for a recovery failed", metadata: ["connection.key": "\(key)", "error": "\(failure)"])
        }
        link.send(
            framing.frame(authRequest.reply(.authReply, body: outcome.replyBody(allocator: comet.allocator)), allocator: comet.allocator))
        var replay = comet.allocator.buffer(capacity: 0)
        for read in outcome.reads {
            guard let page = read.page else { continue }
            if read.covered {
                // Room pushes reach every member, as live; pushes to users and broadcasts only
                // connections that accept their operation.
                for entry in page.entries where read.kind == .room || acceptedOps.contains(entry.operation) {
                    replay.writePacket(
                        Packet(
                            version: read.kind.rawValue,
                            operation: Operation(entry.operation),
                            sequence: Int32(bitPattern: UInt32(truncatingIfNeeded: entry.offset)),
                            body: ByteBuffer(bytes: entry.body)
                        ))
                }
                cursor.set(read.kind, offset: max(read.since?.offset ?? 0, page.entries.last?.offset ?? 0), epoch: page.epoch)
            } else {
                // Not recovered: every live push of this epoch from now on is new to the client.
                cursor.set(read.kind, offset: 0, epoch: page.epoch)
            }
        }
        if replay.readableBytes > 0 { link.send(framing.frame(batch: replay, allocator: comet.allocator)) }
        let held = cursor.release()
        var cache: FramedPushCache
        for payload in held where self.link != nil {
            cache = FramedPushCache(payload, allocator: comet.allocator)
            _ = deliver(&cache)
        }
        let pending = buffered
        buffered = []
        for packet in pending where self.link != nil { handle(packet) }
    }

    // MARK: Operations of an active connection

    private func handle(_ packet: Packet) {
        guard let link else { return }
        switch packet.operation {
        case .heartbeat:
            let now = NIODeadline.now()
            deadline = now + .nanoseconds(heartbeat.nanoseconds)
            if now >= nextLogicHeartbeat {
                nextLogicHeartbeat = now + comet.randomLogicHeartbeatGap()
                comet.logicHeartbeat(mid: mid, key: key)
            }
            var body = comet.allocator.buffer(capacity: 4)
            body.writeInteger(room.isEmpty ? Int32(0) : comet.roomOnline.count(room))
            link.send(framing.frame(packet.reply(.heartbeatReply, body: body), allocator: comet.allocator))
        case .changeRoom:
            let newRoom = String(buffer: packet.body)
            var replyBody = packet.body
            if let grants = grants?.value, !grants.allows(room: newRoom) {
                // Not granted by the token: stay; the reply names the room the connection is in.
                comet.metrics.roomRefused.increment()
                replyBody = comet.allocator.buffer(string: room)
            } else if newRoom != room {
                let previous = room
                if !previous.isEmpty {
                    shard.leave(self, room: previous)
                    comet.roomOnline.leave(previous)
                }
                room = ""
                cursor?.reset(.room)
                if !newRoom.isEmpty && !enterRoom(newRoom) {
                    // max_rooms: stay in the previous room; the reply names the room the
                    // connection is in, so the client sees the change did not happen.
                    if !previous.isEmpty { _ = enterRoom(previous) }
                    replyBody = comet.allocator.buffer(string: room)
                }
            }
            link.send(framing.frame(packet.reply(.changeRoomReply, body: replyBody), allocator: comet.allocator))
        case .sub:
            var operations = Self.parseOperations(packet.body)
            var replyBody = packet.body
            if let grants = grants?.value, !operations.allSatisfy(grants.allows(operation:)) {
                // Only what the token grants is added; the reply lists what was.
                comet.metrics.operationRefused.increment()
                operations = operations.filter(grants.allows(operation:))
                replyBody = comet.allocator.buffer(string: operations.map(String.init).joined(separator: ","))
            }
            acceptedOps.formUnion(operations)
            link.send(framing.frame(packet.reply(.subReply, body: replyBody), allocator: comet.allocator))
        case .unsub:
            acceptedOps.subtract(Self.parseOperations(packet.body))
            link.send(framing.frame(packet.reply(.unsubReply, body: packet.body), allocator: comet.allocator))
        case .auth:
            // Already authenticated: answer as goim does for other ops.
            link.send(framing.frame(packet.reply(.authReply), allocator: comet.allocator))
        default:
            if Int(upstreamInFlight) < comet.configuration.maxUpstreamInFlight {
                upstreamInFlight += 1
                let loopBound = NIOLoopBound(self, eventLoop: shard.eventLoop)
                comet.logicReceive(mid: mid, packet: packet) {
                    loopBound.eventLoop.execute { loopBound.value.upstreamInFlight -= 1 }
                }
            } else {
                comet.metrics.upstreamBusy.increment()
            }
            link.send(framing.frame(packet.reply(packet.operation), allocator: comet.allocator))
        }
    }

    /// Joins `newRoom`; false when `max_rooms` refuses it (the connection is then in no room).
    private func enterRoom(_ newRoom: String) -> Bool {
        guard comet.joinRoom(newRoom) else { return false }
        room = newRoom
        shard.join(self, room: newRoom)
        return true
    }

    /// A connection's grants behind one reference: most connections have none, and those that do
    /// keep one word in the session instead of the grants' three.
    final class Grants {
        let value: ClientGrants
        init(_ value: ClientGrants) { self.value = value }
    }

    /// Parses a comma-separated list of operations ("1000,1001"); unparsable items are skipped, as in goim.
    static func parseOperations(_ body: ByteBuffer) -> [Int32] {
        String(buffer: body).split(separator: ",").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }
}
