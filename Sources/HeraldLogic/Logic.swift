import Atomics
public import Foundation
public import HeraldCore
public import HeraldProtocol
public import Logging
import Metrics
import NIOConcurrencyHelpers

/// The logic role: authenticates connections, keeps the session directory through a
/// ``SessionRouter``, publishes pushes to the queue, and aggregates room online counts.
///
/// Stateless apart from the cached room counts, as in goim: every process running logic can
/// serve any request.
public final class Logic: LocalLogicService {
    public let configuration: LogicConfiguration
    public let router: any SessionRouter
    public let queue: any QueueBackend
    /// Where messages are kept for clients that were away (nil: `[history]` is off).
    public let history: (any HistoryStore)?
    public let historySettings: HistorySettings
    private let streamOrder = StreamOrder()
    private let currentVerifier: NIOLockedValueBox<any TokenVerifier>
    var verifier: any TokenVerifier { currentVerifier.withLockedValue { $0 } }
    /// Which comets exist (their nodes for the API, the live ones for mappings).
    let comets: any CometDirectory
    let logger: Logger
    private let online = NIOLockedValueBox<[CometID: ServerOnline]>([:])
    /// Identifies this logic instance's messages (`herald_origin`); `herald_seq` counts them.
    public let origin: String = String(UInt64.random(in: 1...UInt64.max), radix: 36)
    private let sequence = ManagedAtomic<UInt64>(0)
    /// `herald_pushes_total{kind}`: messages logic accepted and published, by kind.
    private let pushesByKind = (
        push: Counter(label: "herald_pushes_total", dimensions: [("kind", "push")]),
        room: Counter(label: "herald_pushes_total", dimensions: [("kind", "room")]),
        broadcast: Counter(label: "herald_pushes_total", dimensions: [("kind", "broadcast")])
    )

    /// The in-process router and queue of the all-in-one process, when both are: pushes that need
    /// neither history nor a remote directory are then published without suspending (``pushKeysNow``).
    private let local: (router: any LocalSessionRouter, queue: any LocalQueueBackend)?

    /// `herald_api_queue_full_total`: pushes refused because the queue was full or behind.
    private let queueFull = Counter(label: "herald_api_queue_full_total")

    public init(
        configuration: LogicConfiguration,
        router: any SessionRouter,
        queue: any QueueBackend,
        comets: any CometDirectory,
        verifier: (any TokenVerifier)? = nil,
        history: (any HistoryStore)? = nil,
        historySettings: HistorySettings = .disabled,
        logger: Logger
    ) throws {
        self.configuration = configuration
        self.router = router
        self.queue = queue
        self.history = historySettings.enabled ? history : nil
        self.historySettings = historySettings
        self.currentVerifier = NIOLockedValueBox(try verifier ?? configuration.auth.makeVerifier())
        self.comets = comets
        self.logger = logger
        if comets.everyServerIsLive, let router = router as? any LocalSessionRouter, let queue = queue as? any LocalQueueBackend {
            local = (router, queue)
        } else {
            local = nil
        }
    }

    /// Replaces how tokens are verified (SIGHUP): connections authenticating afterwards use the new
    /// settings; open connections stay. A setting that cannot be used throws and changes nothing.
    public func applyAuth(_ auth: AuthConfiguration) throws {
        let next = try auth.makeVerifier()
        currentVerifier.withLockedValue { $0 = next }
        logger.notice("token verification reloaded", metadata: ["auth.mode": "\(next.name)"])
    }

    // MARK: LogicService (called by comets)

    public func connect(server: CometID, cookie: String, token: [UInt8]) async throws -> ConnectReply {
        let verified = try await verifier.verify(token)
        let parsed = verified.identity
        let key = Self.key(for: parsed)
        try await router.addMapping(SessionMapping(mid: parsed.mid, key: key, server: server, platform: parsed.platform))
        return reply(verified, key: key)
    }

    public func connectNow(server: CometID, cookie: String, token: [UInt8]) throws -> ConnectReply? {
        guard let local = router as? any LocalSessionRouter, let verified = try verifier.verifyNow(token) else { return nil }
        let parsed = verified.identity
        let key = Self.key(for: parsed)
        local.addMappingNow(SessionMapping(mid: parsed.mid, key: key, server: server, platform: parsed.platform))
        return reply(verified, key: key)
    }

    public func disconnectNow(mid: Int64, key: String, server: CometID) -> Bool? {
        guard let local = router as? any LocalSessionRouter else { return nil }
        return local.deleteMappingNow(mid: mid, key: key, server: server)
    }

    /// The connection key: the client's, or a new one (goim assigns a UUID when none is given).
    private static func key(for token: AuthToken) -> String {
        token.key.isEmpty ? UUID().uuidString.lowercased() : token.key
    }

    private func reply(_ verified: VerifiedClient, key: String) -> ConnectReply {
        let parsed = verified.identity
        return ConnectReply(
            mid: parsed.mid,
            key: key,
            roomID: parsed.roomID,
            platform: parsed.platform,
            accepts: parsed.accepts,
            heartbeat: configuration.connectionTimeout,
            grants: verified.grants
        )
    }

    public func disconnect(mid: Int64, key: String, server: CometID) async throws -> Bool {
        try await router.deleteMapping(mid: mid, key: key, server: server)
    }

    public func heartbeat(mid: Int64, key: String, server: CometID) async throws {
        let has = try await router.expireMapping(mid: mid, key: key, server: server)
        if !has {
            try await router.addMapping(SessionMapping(mid: mid, key: key, server: server))
        }
    }

    public func renewOnline(server: CometID, roomCount: [String: Int32]) async throws -> [String: Int32] {
        let entry = ServerOnline(server: server, roomCount: roomCount)
        try await router.setServerOnline(entry)
        online.withLockedValue { $0[server] = entry }
        return roomCounts()
    }

    public func receive(mid: Int64, packet: Packet) async throws {
        logger.debug("upstream message", metadata: ["user.mid": "\(mid)", "packet.op": "\(packet.operation)"])
    }

    // MARK: Pushes (called by the HTTP API)

    /// Pushes to connection keys: one PUSH message per comet server holding some of them.
    /// Returns the keys that are not connected.
    @discardableResult
    public func pushKeys(operation: Int32, keys: [String], message: Data) async throws -> [String] {
        let (byServer, missing) = Self.group(keys: keys, servers: try await router.serversByKeys(keys))
        try await publishPushes(operation: operation, byServer: byServer, message: message)
        return missing
    }

    /// ``pushKeys(operation:keys:message:)`` without suspending; nil when it cannot be done so
    /// (the router or the queue is not in this process).
    public func pushKeysNow(operation: Int32, keys: [String], message: Data) throws -> [String]? {
        guard let local else { return nil }
        let (byServer, missing) = Self.group(keys: keys, servers: local.router.serversByKeysNow(keys))
        try publishPushesNow(Self.pushMessages(operation: operation, byServer: byServer, message: message), to: local.queue)
        return missing
    }

    private static func group(keys: [String], servers: [String: CometID]) -> (byServer: [CometID: [String]], missing: [String]) {
        var byServer: [CometID: [String]] = [:]
        var missing: [String] = []
        for key in keys {
            if let server = servers[key] { byServer[server, default: []].append(key) } else { missing.append(key) }
        }
        return (byServer, missing)
    }

    /// Presence per user, keyed by the decimal user id (beyond goim, which cannot tell).
    public func onlineUsers(mids: [Int64]) async throws -> [String: UserOnline] {
        let sessions: [Int64: [SessionMapping]]
        do {
            sessions = try await router.sessionsByMids(mids)
        } catch {
            throw APIError.server("router \(router.name): \(error)")
        }
        let live = await comets.liveServers()
        var result: [String: UserOnline] = [:]
        for mid in mids {
            let list = Self.alive(sessions[mid] ?? [], live)
            result[String(mid)] = UserOnline(
                online: !list.isEmpty,
                connections: list.count,
                platforms: Array(Set(list.map(\.platform).filter { !$0.isEmpty })).sorted()
            )
        }
        return result
    }

    /// Pushes to every connection of the given users. Returns the users with no connection.
    @discardableResult
    public func pushMids(operation: Int32, mids: [Int64], platform: String? = nil, message: Data) async throws -> [Int64] {
        let sessions = try await router.sessionsByMids(mids)
        let live = await comets.liveServers()
        // A push to one platform of a user is not kept: the user's stream is read by every device.
        guard history != nil, historySettings.users, platform == nil else {
            let (byServer, offline) = Self.group(mids: mids, sessions: sessions, live: live, platform: platform)
            try await publishPushes(operation: operation, byServer: byServer, message: message)
            return offline
        }
        var offline: [Int64] = []
        for mid in mids {
            // Each user's own stream and offset: one message per user and comet, stored also
            // while the user is offline (the unread messages of the next login).
            let (own, none) = Self.group(mids: [mid], sessions: sessions, live: live, platform: nil)
            offline += none
            try await publishStored(HistoryStream.user(mid), operation: operation, message: message) { position in
                try await self.publishPushes(operation: operation, byServer: own, message: message, position: position)
            }
        }
        return offline
    }

    /// ``pushMids(operation:mids:platform:message:)`` without suspending; nil when it cannot be
    /// done so (the router or the queue is not in this process, or the push is kept in history).
    public func pushMidsNow(operation: Int32, mids: [Int64], platform: String? = nil, message: Data) throws -> [Int64]? {
        guard let local, history == nil || !historySettings.users || platform != nil else { return nil }
        let (byServer, offline) = Self.group(mids: mids, sessions: local.router.sessionsByMidsNow(mids), live: nil, platform: platform)
        try publishPushesNow(Self.pushMessages(operation: operation, byServer: byServer, message: message), to: local.queue)
        return offline
    }

    private static func group(
        mids: [Int64], sessions: [Int64: [SessionMapping]], live: Set<CometID>?, platform: String?
    ) -> (byServer: [CometID: [String]], offline: [Int64]) {
        var byServer: [CometID: [String]] = [:]
        var offline: [Int64] = []
        for mid in mids {
            let list = alive(sessions[mid] ?? [], live).filter { platform == nil || $0.platform == platform }
            if list.isEmpty { offline.append(mid) }
            for s in list { byServer[s.server, default: []].append(s.key) }
        }
        return (byServer, offline)
    }

    /// Stores a message in `stream`, then runs `publish` with its offset, one message of the
    /// stream at a time (see ``StreamOrder``). A message that cannot be stored is not published:
    /// the push is refused (-500), so an accepted push is one a recovering client can get.
    private func publishStored(
        _ stream: String, operation: Int32, message: Data, _ publish: (StreamPosition) async throws -> Void
    ) async throws {
        guard let history else { return try await publish(StreamPosition(offset: 0, epoch: "")) }
        try await streamOrder.run(stream) {
            let position: StreamPosition
            do {
                position = try await history.append(to: stream, operation: operation, body: Array(message))
            } catch {
                throw APIError.server("history \(history.name) did not store the message: \(error)")
            }
            try await publish(position)
        }
    }

    /// The messages of a history stream after `offset`.
    public func history(_ stream: String, after offset: UInt64, limit: Int) async throws -> HistoryPage {
        guard let history else { throw APIError.badRequest("history is off: set [history] enabled = true") }
        do {
            return try await history.read(stream, after: offset, limit: limit)
        } catch {
            throw APIError.server("history \(history.name): \(error)")
        }
    }

    /// The sessions on comets that are alive: in a cluster, a comet that stopped renewing its
    /// registration takes its users offline at once, before their mappings expire.
    private static func alive(_ sessions: [SessionMapping], _ live: Set<CometID>?) -> [SessionMapping] {
        guard let live else { return sessions }
        return sessions.filter { live.contains($0.server) }
    }

    /// Pushes to everyone in room `type://room`.
    public func pushRoom(operation: Int32, type: String, room: String, message: Data) async throws {
        var msg = Self.roomMessage(operation: operation, type: type, room: room, message: message)
        guard history != nil, historySettings.keeps(room: msg.room) else { return try await publish(msg) }
        try await publishStored(HistoryStream.room(msg.room), operation: operation, message: message) { position in
            msg.heraldOffset = position.offset
            msg.heraldEpoch = position.epoch
            try await self.publish(msg)
        }
    }

    /// ``pushRoom(operation:type:room:message:)`` without suspending; false when it cannot be
    /// done so (the queue is not in this process, or the room is kept in history).
    public func pushRoomNow(operation: Int32, type: String, room: String, message: Data) throws -> Bool {
        let msg = Self.roomMessage(operation: operation, type: type, room: room, message: message)
        guard let local, history == nil || !historySettings.keeps(room: msg.room) else { return false }
        try publishNow(msg, to: local.queue)
        return true
    }

    private static func roomMessage(operation: Int32, type: String, room: String, message: Data) -> PushMsg {
        var msg = PushMsg()
        msg.type = .room
        msg.operation = operation
        msg.room = roomID(type: type, room: room)
        msg.msg = message
        return msg
    }

    /// Pushes to every connection that accepts `operation`.
    public func pushAll(operation: Int32, speed: Int32, message: Data) async throws {
        var msg = Self.broadcastMessage(operation: operation, speed: speed, message: message)
        guard history != nil, historySettings.broadcast else { return try await publish(msg) }
        try await publishStored(HistoryStream.broadcast, operation: operation, message: message) { position in
            msg.heraldOffset = position.offset
            msg.heraldEpoch = position.epoch
            try await self.publish(msg)
        }
    }

    /// ``pushAll(operation:speed:message:)`` without suspending; false when it cannot be done so.
    public func pushAllNow(operation: Int32, speed: Int32, message: Data) throws -> Bool {
        guard let local, history == nil || !historySettings.broadcast else { return false }
        try publishNow(Self.broadcastMessage(operation: operation, speed: speed, message: message), to: local.queue)
        return true
    }

    private static func broadcastMessage(operation: Int32, speed: Int32, message: Data) -> PushMsg {
        var msg = PushMsg()
        msg.type = .broadcast
        msg.operation = operation
        msg.speed = speed
        msg.msg = message
        return msg
    }

    /// One PUSH message per comet, in server order.
    private static func pushMessages(
        operation: Int32, byServer: [CometID: [String]], message: Data, position: StreamPosition? = nil
    ) -> [PushMsg] {
        byServer.sorted(by: { $0.key < $1.key }).map { server, keys in
            var msg = PushMsg()
            msg.type = .push
            msg.operation = operation
            msg.server = server.rawValue
            msg.keys = keys
            msg.msg = message
            if let position {
                msg.heraldOffset = position.offset
                msg.heraldEpoch = position.epoch
            }
            return msg
        }
    }

    private func publishPushes(
        operation: Int32, byServer: [CometID: [String]], message: Data, position: StreamPosition? = nil
    ) async throws {
        let messages = Self.pushMessages(operation: operation, byServer: byServer, message: message, position: position)
        for (index, msg) in messages.enumerated() {
            do {
                try await publish(msg)
            } catch let error as APIError where error.retryAfter != nil && index > 0 {
                // Some of the push is on its way already: "retry later" would send that part twice.
                throw APIError.server("\(error.message) (after \(index) of \(messages.count) comets' messages were published)")
            }
        }
    }

    private func publish(_ msg: PushMsg) async throws {
        let msg = stamped(msg)
        do {
            try await queue.publish(msg)
        } catch {
            throw refusal(error)
        }
        count(msg)
    }

    /// ``publishPushes(operation:byServer:message:position:)`` to an in-process queue, with the
    /// same rule for a refusal after part of the push was published.
    private func publishPushesNow(_ messages: [PushMsg], to queue: any LocalQueueBackend) throws {
        for (index, msg) in messages.enumerated() {
            do {
                try publishNow(msg, to: queue)
            } catch let error as APIError where error.retryAfter != nil && index > 0 {
                throw APIError.server("\(error.message) (after \(index) of \(messages.count) comets' messages were published)")
            }
        }
    }

    /// ``publish(_:)`` to an in-process queue.
    private func publishNow(_ msg: PushMsg, to queue: any LocalQueueBackend) throws {
        let msg = stamped(msg)
        do {
            try queue.publishNow(msg)
        } catch {
            throw refusal(error)
        }
        count(msg)
    }

    private func stamped(_ msg: PushMsg) -> PushMsg {
        var msg = msg
        msg.heraldOrigin = origin
        msg.heraldSeq = sequence.wrappingIncrementThenLoad(ordering: .relaxed)
        msg.heraldPublishedAt = UInt64(max(0, Date().timeIntervalSince1970 * 1e9))
        return msg
    }

    /// What the API answers for a publish the queue refused: 503 with Retry-After when the queue
    /// is full or behind, -500 otherwise.
    private func refusal(_ error: any Error) -> APIError {
        if let error = error as? QueueError, let retryAfter = error.retryAfter {
            queueFull.increment()
            return APIError.unavailable("queue \(queue.name): \(error); retry later", retryAfter: retryAfter)
        }
        return APIError.server("queue \(queue.name) did not accept the message: \(error)")
    }

    private func count(_ msg: PushMsg) {
        switch msg.type {
        case .push: pushesByKind.push.increment()
        case .room: pushesByKind.room.increment()
        default: pushesByKind.broadcast.increment()
        }
    }

    /// goim's room id: `type://room`.
    public static func roomID(type: String, room: String) -> String { "\(type)://\(room)" }

    // MARK: Online counts

    /// Global room counts: the sum over comets whose report is fresh.
    public func roomCounts() -> [String: Int32] {
        let deadline = Date().addingTimeInterval(-configuration.onlineDeadline.seconds)
        return online.withLockedValue { servers in
            var total: [String: Int32] = [:]
            for (server, entry) in servers {
                guard entry.updated >= deadline else {
                    servers[server] = nil
                    continue
                }
                for (room, n) in entry.roomCount { total[room, default: 0] += n }
            }
            return total
        }
    }

    /// The `limit` most populated rooms whose id starts with `type`.
    public func onlineTop(type: String, limit: Int) -> [(room: String, count: Int32)] {
        let prefix = "\(type)://"
        var rooms: [(room: String, count: Int32)] = []
        for (id, count) in roomCounts() where id.hasPrefix(prefix) {
            rooms.append((room: String(id.dropFirst(prefix.count)), count: count))
        }
        rooms.sort { a, b in a.count != b.count ? a.count > b.count : a.room < b.room }
        return Array(rooms.prefix(limit))
    }

    /// Online counts of the given rooms of one type (0 for unknown rooms).
    public func onlineRooms(type: String, rooms: [String]) -> [String: Int32] {
        let counts = roomCounts()
        var out: [String: Int32] = [:]
        for room in rooms { out[room] = counts[Self.roomID(type: type, room: room)] ?? 0 }
        return out
    }

    public func cometNodes() async -> [CometNode] { await comets.nodes() }
}
