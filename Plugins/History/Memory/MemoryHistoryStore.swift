import DequeModule
import Foundation
public import HeraldCore
import Metrics
import NIOConcurrencyHelpers

/// `memory`: history in this process (the embedded default). Each stream keeps at most
/// `max_messages` for at most `max_age`; all streams together keep at most `max_bytes` (oldest
/// message first out). Every eviction is counted in `herald_history_evicted_total{reason}`.
///
/// The epoch of a stream is random per process, so a restart (which loses everything) is seen by
/// a recovering client as a new epoch. A stream's record (its epoch and newest offset) costs
/// ``streamOverhead`` against `max_bytes` too; a stream without messages is forgotten once it has
/// been idle for ``idleLifetime(maxAge:)`` or when the bytes run out (its next message starts a new
/// epoch), which bounds what reads of streams nobody writes to can hold.
public final class MemoryHistoryStore: HistoryStore {
    public var name: String { "memory" }
    /// An entry's cost beyond its body, as charged against `max_bytes`.
    public static let entryOverhead = 160
    /// A stream record's cost beyond its messages, as charged against `max_bytes`.
    public static let streamOverhead = 128

    /// How long a stream without messages keeps its epoch and offset: twice `max_age`, at least a
    /// day, so a client that missed nothing in a quiet stream still recovers.
    public static func idleLifetime(maxAge: UInt64) -> UInt64 { max(2 * maxAge, 86_400_000) }

    private let limits: HistoryLimits
    private let maxBytes: Int
    private let state = NIOLockedValueBox(State())
    private let evicted = (
        count: Counter(label: "herald_history_evicted_total", dimensions: [("reason", "count")]),
        age: Counter(label: "herald_history_evicted_total", dimensions: [("reason", "age")]),
        bytes: Counter(label: "herald_history_evicted_total", dimensions: [("reason", "bytes")])
    )
    private let appended = Counter(label: "herald_history_appended_total", dimensions: [("store", "memory")])

    struct Stream {
        var epoch: String
        var top: UInt64 = 0
        var entries: Deque<HistoryEntry> = []
        var lastAppend: UInt64 = 0
    }

    /// Every stored message in append order (the global age and byte bounds pop from its head).
    struct Stored {
        var stream: String
        var offset: UInt64
        var bytes: Int
        var time: UInt64
    }

    struct State {
        var streams: [String: Stream] = [:]
        var order: Deque<Stored> = []
        var bytes = 0
        var messages = 0
        var callsSinceSweep = 0
    }

    public init(limits: HistoryLimits, maxBytes: Int) {
        self.limits = limits
        self.maxBytes = maxBytes
    }

    public convenience init(context: HistoryContext) throws(ConfigError) {
        let maxBytes = try context.config.int("max_bytes", default: 64 << 20, in: 1024...(1 << 40))
        self.init(limits: context.limits, maxBytes: maxBytes)
    }

    /// Messages and bytes (with overhead) held now.
    public var usage: (messages: Int, bytes: Int, streams: Int) {
        state.withLockedValue { ($0.messages, $0.bytes, $0.streams.count) }
    }

    /// Records kept of stored messages in append order (at most about twice the messages held).
    public var orderLength: Int { state.withLockedValue { $0.order.count } }

    public func append(to stream: String, operation: Int32, body: [UInt8]) async throws -> StreamPosition {
        appendNow(to: stream, operation: operation, body: body, now: Self.nowMilliseconds())
    }

    /// The append, without suspending; `now` in Unix milliseconds.
    public func appendNow(to name: String, operation: Int32, body: [UInt8], now: UInt64) -> StreamPosition {
        let cost = body.count + Self.entryOverhead
        let maxAge = UInt64(limits.maxAge / .milliseconds(1))
        let (position, trimmed) = state.withLockedValue { state -> (StreamPosition, (count: Int, age: Int, bytes: Int)) in
            var trimmed = (count: 0, age: 0, bytes: 0)
            var stream: Stream
            if let existing = state.streams.removeValue(forKey: name) {
                stream = existing
            } else {
                stream = Stream(epoch: Self.newEpoch())
                state.bytes += Self.streamOverhead
            }
            stream.top += 1
            stream.lastAppend = now
            stream.entries.append(HistoryEntry(offset: stream.top, operation: operation, body: body, time: now))
            while stream.entries.count > limits.maxMessages {
                let old = stream.entries.removeFirst()
                state.bytes -= old.body.count + Self.entryOverhead
                state.messages -= 1
                trimmed.count += 1
            }
            let position = StreamPosition(offset: stream.top, epoch: stream.epoch)
            state.streams[name] = stream
            state.order.append(Stored(stream: name, offset: stream.top, bytes: cost, time: now))
            state.bytes += cost
            state.messages += 1
            // The global bounds: the oldest message of all goes first.
            while let head = state.order.first, state.bytes > maxBytes || head.time + maxAge < now {
                state.order.removeFirst()
                if Self.remove(head, from: &state) {
                    if head.time + maxAge < now { trimmed.age += 1 } else { trimmed.bytes += 1 }
                }
            }
            Self.forgetEmptyStreams(&state, over: maxBytes)
            Self.compact(&state)
            Self.sweepIfDue(&state, now: now, maxAge: maxAge)
            return (position, trimmed)
        }
        appended.increment()
        if trimmed.count > 0 { evicted.count.increment(by: trimmed.count) }
        if trimmed.age > 0 { evicted.age.increment(by: trimmed.age) }
        if trimmed.bytes > 0 { evicted.bytes.increment(by: trimmed.bytes) }
        return position
    }

    /// Removes `stored` from its stream when it is still that stream's oldest entry; false when
    /// it was trimmed already.
    private static func remove(_ stored: Stored, from state: inout State) -> Bool {
        // In place: a copy of the stream would copy its messages.
        guard state.streams[stored.stream]?.entries.first?.offset == stored.offset,
            let old = state.streams[stored.stream]?.entries.removeFirst()
        else { return false }
        state.bytes -= old.body.count + entryOverhead
        state.messages -= 1
        return true
    }

    /// Every so many calls (at least as many as there are streams, so the cost per call stays
    /// constant), forgets the streams that have been empty and unwritten for their idle lifetime.
    private static func sweepIfDue(_ state: inout State, now: UInt64, maxAge: UInt64) {
        state.callsSinceSweep += 1
        guard state.callsSinceSweep >= max(1024, state.streams.count) else { return }
        state.callsSinceSweep = 0
        let lifetime = idleLifetime(maxAge: maxAge)
        let before = state.streams.count
        state.streams = state.streams.filter { !$0.value.entries.isEmpty || $0.value.lastAppend + lifetime >= now }
        state.bytes -= (before - state.streams.count) * streamOverhead
    }

    /// Past `max_bytes` with no message left to drop, forgets streams without messages.
    private static func forgetEmptyStreams(_ state: inout State, over maxBytes: Int) {
        guard state.bytes > maxBytes else { return }
        for (name, stream) in state.streams where stream.entries.isEmpty {
            state.streams[name] = nil
            state.bytes -= streamOverhead
            if state.bytes <= maxBytes { return }
        }
    }

    /// Drops the order's records of messages trimmed by count once they outnumber the stored
    /// ones, so the order stays within twice the messages held.
    private static func compact(_ state: inout State) {
        guard state.order.count > 2 * max(state.messages, 512) else { return }
        let streams = state.streams
        state.order = Deque(
            state.order.filter { stored in
                guard let first = streams[stored.stream]?.entries.first?.offset else { return false }
                return stored.offset >= first
            })
    }

    public func read(_ name: String, after offset: UInt64, limit: Int) async throws -> HistoryPage {
        readNow(name, after: offset, limit: limit, now: Self.nowMilliseconds())
    }

    /// The read, without suspending.
    public func readNow(_ name: String, after offset: UInt64, limit: Int, now: UInt64) -> HistoryPage {
        let maxAge = UInt64(limits.maxAge / .milliseconds(1))
        return state.withLockedValue { state in
            if state.streams[name] == nil {
                // A stream nobody wrote to yet: its epoch is fixed now, so a client that reads
                // first and recovers later sees the same one.
                state.streams[name] = Stream(epoch: Self.newEpoch(), lastAppend: now)
                state.bytes += Self.streamOverhead
                Self.forgetEmptyStreams(&state, over: maxBytes)
            }
            guard let stream = state.streams[name] else { return HistoryPage(epoch: Self.newEpoch(), top: 0, entries: []) }
            Self.sweepIfDue(&state, now: now, maxAge: maxAge)
            var out: [HistoryEntry] = []
            // Offsets in a stream are consecutive: the first wanted is found by arithmetic.
            if let first = stream.entries.first?.offset, offset < stream.top, limit > 0 {
                var index = offset >= first ? Int(offset - first + 1) : 0
                while index < stream.entries.count, out.count < limit {
                    let entry = stream.entries[index]
                    if entry.time + maxAge >= now { out.append(entry) }
                    index += 1
                }
            }
            return HistoryPage(epoch: stream.epoch, top: stream.top, entries: out)
        }
    }

    public func shutdown() async {}

    static func newEpoch() -> String { HistoryStream.newEpoch() }

    static func nowMilliseconds() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }
}

extension MemoryHistoryStore {
    /// Registers the store as `memory`.
    public static func register(in registry: inout PluginRegistry) {
        registry.registerHistoryStore("memory") { context in try MemoryHistoryStore(context: context) }
    }
}
