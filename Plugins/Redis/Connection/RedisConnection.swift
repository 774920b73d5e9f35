import CHiredis
import Foundation
package import HeraldCore
import HeraldPluginSupport
import NIOConcurrencyHelpers

/// One connection to one Redis server through hiredis's blocking API, driven by its own thread.
/// Commands are pipelined: a batch is written at once and its replies read in order. Batches that
/// arrive while the thread is busy are written together in the next round trip (a connect storm
/// costs one round trip per round, not one per connection); each batch stays contiguous, so a
/// MULTI … EXEC batch is never interleaved. A broken connection is dropped and reopened on the
/// next round.
package final class RedisConnection: Sendable {
    private typealias Batch = (commands: [[[UInt8]]], reply: CheckedContinuation<[RedisReply], any Error>)
    package let address: String
    private let host: String
    private let port: Int32
    private let timeout: Duration
    private let thread: SerialThread
    private let context = ContextHolder()
    /// Batches waiting for the next round, and whether a round is already queued on the thread.
    private let waiting = NIOLockedValueBox<(batches: [Batch], scheduled: Bool)>(([], false))

    package init(address: String, timeout: Duration) throws(ConfigError) {
        let (host, port) = try HostPort.parse(address, key: "addresses")
        self.address = address
        self.host = host
        self.port = Int32(port)
        self.timeout = timeout
        self.thread = SerialThread(name: "herald-redis")
    }

    /// Sends `commands` in one pipeline and returns their replies in order.
    package func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        try await pipeline(bytes: commands.map { $0.map { Array($0.utf8) } })
    }

    /// The same with binary arguments (message bodies).
    package func pipeline(bytes commands: [[[UInt8]]]) async throws -> [RedisReply] {
        try await withCheckedThrowingContinuation { reply in
            let schedule = waiting.withLockedValue { w in
                w.batches.append((commands, reply))
                defer { w.scheduled = true }
                return !w.scheduled
            }
            guard schedule, !thread.submit({ [self] in round() }) else { return }
            // The thread has stopped (close): nothing will run these batches.
            for batch in waiting.withLockedValue({ w in
                defer { w = ([], false) }; return w.batches
            }) {
                batch.reply.resume(throwing: RouterError("redis \(address): connection closed"))
            }
        }
    }

    package func command(_ args: String...) async throws -> RedisReply {
        try await pipeline([args])[0]
    }

    package func close() async {
        await thread.stop { [context] in
            if let c = context.pointer { redisFree(c) }
            context.pointer = nil
        }
    }

    // MARK: On the connection's thread

    /// Writes every waiting batch in one pipeline and hands each its replies.
    private func round() {
        let batches = waiting.withLockedValue { w in
            defer { w = ([], false) }
            return w.batches
        }
        do {
            let replies = try execute(batches.flatMap(\.commands))
            var start = 0
            for batch in batches {
                batch.reply.resume(returning: Array(replies[start..<start + batch.commands.count]))
                start += batch.commands.count
            }
        } catch {
            for batch in batches { batch.reply.resume(throwing: error) }
        }
    }

    private func connected() throws -> UnsafeMutablePointer<redisContext> {
        if let c = context.pointer { return c }
        let tv = timeval(tv_sec: Int(timeout.nanoseconds / 1_000_000_000), tv_usec: Int((timeout.nanoseconds / 1000) % 1_000_000))
        guard let c = redisConnectWithTimeout(host, port, tv) else { throw RouterError("redis \(address): out of memory") }
        if c.pointee.err != 0 {
            let message = Self.errorText(c)
            redisFree(c)
            throw RouterError("redis \(address): \(message)")
        }
        _ = redisSetTimeout(c, tv)
        context.pointer = c
        return c
    }

    private func execute(_ commands: [[[UInt8]]]) throws -> [RedisReply] {
        let c = try connected()
        for args in commands {
            // Each argument goes with its length, so bytes need no terminator and may hold zeros.
            let bytes = args.map { $0.map { CChar(bitPattern: $0) } }
            var pointers: [UnsafePointer<CChar>?] = []
            var lengths: [Int] = []
            let rc: Int32 = withArrayOfCStrings(bytes) { ptrs in
                pointers = ptrs
                lengths = args.map(\.count)
                return redisAppendCommandArgv(c, Int32(args.count), &pointers, &lengths)
            }
            guard rc == 0 else { throw drop(c) }
        }
        var replies: [RedisReply] = []
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(c, &raw) == 0, let raw else { throw drop(c) }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(RedisReply(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    /// Forgets a broken context (the next batch reconnects) and describes why it broke.
    private func drop(_ c: UnsafeMutablePointer<redisContext>) -> RouterError {
        let message = Self.errorText(c)
        redisFree(c)
        context.pointer = nil
        return RouterError("redis \(address): \(message)")
    }

    private static func errorText(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

/// The hiredis context, touched only on the connection's thread.
private final class ContextHolder: @unchecked Sendable {
    var pointer: UnsafeMutablePointer<redisContext>?
}

/// Calls `body` with pointers to copies of `strings` (lengths travel separately), valid during the call.
private func withArrayOfCStrings<R>(_ strings: [[CChar]], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let buffers = strings.map { s -> UnsafeMutablePointer<CChar> in
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, s.count))
        p.initialize(from: s, count: s.count)
        return p
    }
    defer { for p in buffers { p.deallocate() } }
    return body(buffers.map { UnsafePointer($0) })
}
