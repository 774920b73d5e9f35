import Foundation
import HeraldComet
import HeraldCore
import HeraldJob
import HeraldLogic
import HeraldPluginSupport
import HeraldProtocol
import HeraldQueueMemory
import HeraldRPC
import HeraldRouterMemory
import HeraldTransportWebSocket
import Logging
import MallocInterposerSwift
import NIOCore
import NIOFoundationCompat
import NIOPosix

// Each benchmark runs `body` for `iterations`, three times; the best time and the allocations of
// the last run are reported per operation.

struct Result {
    var name: String
    var nanosPerOp: Double
    var mallocsPerOp: Double
    var bytesPerOp: Double
}

func measure(_ name: String, iterations: Int, _ body: () -> Void) -> Result {
    for _ in 0..<min(iterations, 1000) { body() }  // warm up
    var best = Double.infinity
    var mallocs = 0
    var bytes = 0
    for _ in 0..<3 {
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
        let start = ContinuousClock.now
        for _ in 0..<iterations { body() }
        let elapsed = ContinuousClock.now - start
        MallocInterposerSwift.unhook()
        let stats = MallocInterposerSwift.getStatistics()
        mallocs = stats.mallocCount
        bytes = stats.mallocBytesCount
        let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        best = min(best, ns / Double(iterations))
    }
    return Result(
        name: name, nanosPerOp: best, mallocsPerOp: Double(mallocs) / Double(iterations), bytesPerOp: Double(bytes) / Double(iterations))
}

let filter = CommandLine.arguments.dropFirst().first
var results: [Result] = []
func run(_ name: String, iterations: Int, _ body: () -> Void) {
    if let filter, !name.contains(filter) { return }
    results.append(measure(name, iterations: iterations, body))
}

// MARK: Codec

let body128 = ByteBuffer(repeating: 0x61, count: 128)
let packet = Packet(version: 1, operation: Operation(1000), sequence: 0, body: body128)
var scratch = ByteBufferAllocator().buffer(capacity: 256)
run("codec: encode one 128-byte packet", iterations: 1_000_000) {
    scratch.clear()
    scratch.writePacket(packet)
}

var stream = ByteBuffer()
for _ in 0..<100 { stream.writePacket(packet) }
run("codec: decode 100 packets from a stream", iterations: 20_000) {
    var b = stream
    var n = 0
    while let p = try? PacketDecoder.readPacket(from: &b, maxBodySize: 4096) { n &+= p.body.readableBytes }
    precondition(n == 12_800)
}

let token = Array(#"{"mid":123,"key":"","room_id":"live://1000","platform":"web","accepts":[1000,1001,1002]}"#.utf8)
run("auth: parse a goim token", iterations: 100_000) {
    _ = try! AuthToken.parse(token)
}

// MARK: Framing

let batch = PacketBatch.join(Array(repeating: packet, count: 32))
let framing = WebSocketPacketFraming.shared
let allocator = ByteBufferAllocator()
run("framing: websocket op-9 frame of a 32-message batch", iterations: 200_000) {
    _ = framing.frame(batch: batch, allocator: allocator)
}

// MARK: Fan-out of one batch to N sessions (no sockets: a link that counts bytes)

/// A link without a socket: it counts the bytes it is sent and, once armed, signals each arrival.
final class CountingLink: ClientLink {
    let eventLoop: any EventLoop
    let framing: any PacketFraming
    let transportName = "bench"
    var remoteAddress: SocketAddress? { nil }
    var isWritable: Bool { true }
    var bytes = 0
    var session: (any ClientSession)?
    let arrived: DispatchSemaphore?
    /// Signals from the first push on (the auth reply is not one).
    var armed = false

    init(eventLoop: any EventLoop, framing: any PacketFraming, arrived: DispatchSemaphore? = nil) {
        self.eventLoop = eventLoop
        self.framing = framing
        self.arrived = arrived
    }

    func send(_ bytes: ByteBuffer) {
        self.bytes &+= bytes.readableBytes
        if armed { arrived?.signal() }
    }

    func close(_ reason: CloseReason) {}
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let loop = group.next()
var logger = Logger(label: "bench")
logger.logLevel = .critical
let directory = LocalCometDirectory()
let queue = MemoryQueue()
let logic = try! Logic(
    configuration: LogicConfiguration(), router: MemoryRouter(), queue: queue, comets: directory, logger: logger
)
let comet = Comet(configuration: CometConfiguration(serverID: "bench"), logic: logic, eventLoopGroup: group, logger: logger)
directory.set(comet: comet)

for n in [1_000, 10_000] {
    let links: [CountingLink] = try! loop.submit {
        (0..<n).map { i in
            let link = CountingLink(eventLoop: loop, framing: i % 2 == 0 ? StreamPacketFraming.shared : WebSocketPacketFraming.shared)
            let session = comet.open(link: link)
            link.session = session
            let t = AuthToken(mid: Int64(i), key: "k\(n)-\(i)", roomID: "room://\(n)", accepts: [1000])
            session.receive(Packet(operation: .auth, body: ByteBuffer(bytes: t.jsonBytes())))
            return link
        }
    }.wait()
    let push = PushUnit(packets: batch, count: 32)
    let semaphore = DispatchSemaphore(value: 0)
    let r = measure("fan-out: one 32-message batch to \(n) sessions (tcp+ws)", iterations: 200) {
        Task {
            try! await comet.broadcastRoom("room://\(n)", unit: push)
            semaphore.signal()
        }
        semaphore.wait()
    }
    if filter == nil || r.name.contains(filter!) {
        results.append(r)
        results.append(
            Result(
                name: "fan-out: per session (\(n))", nanosPerOp: r.nanosPerOp / Double(n), mallocsPerOp: r.mallocsPerOp / Double(n),
                bytesPerOp: r.bytesPerOp / Double(n)))
    }
    precondition(links.allSatisfy { $0.bytes > 0 }, "every session received the batch")
}

// MARK: The push path of one unicast push, all in one process as in `herald serve`

/// Runs `body` on the cooperative pool and waits for it on this thread.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: T?
    Task.detached {
        result = await body()
        done.signal()
    }
    done.wait()
    return result!
}

// The HTTP API hands the push's body to logic as it read it (a ByteBuffer); from there it goes to
// the queue (memory), the job, the comet and the connection's link. One iteration is one push to
// one user, waiting until that user's link received it. What is allocated per push grows with the
// body by one body's size for each copy into an exact-size buffer (Data, [UInt8]) and by two for a
// copy into a ByteBuffer, whose capacity NIO rounds up to a power of two: the difference between a
// 4,096-byte and a 128-byte body, divided by 3,968, is those bytes per body byte.
let job = Job(configuration: JobConfiguration(), queue: queue, comets: directory, logger: logger)
let jobTask = Task.detached { try await job.run() }
let users = 100
let arrived = DispatchSemaphore(value: 0)
for framing in [StreamPacketFraming.shared as any PacketFraming, WebSocketPacketFraming.shared] {
    let label = framing is StreamPacketFraming ? "tcp" : "websocket"
    let base = label == "tcp" ? 1_000_000 : 2_000_000
    let userLinks: [CountingLink] = try! loop.submit {
        (0..<users).map { i in
            let link = CountingLink(eventLoop: loop, framing: framing, arrived: arrived)
            let session = comet.open(link: link)
            link.session = session
            let t = AuthToken(mid: Int64(base + i), key: "\(label)-\(i)", roomID: "", accepts: [1000])
            session.receive(Packet(operation: .auth, body: ByteBuffer(bytes: t.jsonBytes())))
            return link
        }
    }.wait()
    // Every user's session is in the directory before the first push.
    while blocking({ try! await logic.router.sessionsByMids((0..<users).map { Int64(base + $0) }).count }) < users {
        usleep(10_000)
    }
    try! loop.submit { for link in userLinks { link.armed = true } }.wait()
    var bytesPerPush: [Int: Double] = [:]
    for size in [128, 4096] {
        let body = ByteBuffer(repeating: 0x62, count: size)
        var next = 0
        let r = measure("push path (\(label)): one \(size)-byte push to one user, API body to link", iterations: 5_000) {
            let mid = Int64(base + next % users)
            next += 1
            // What LogicHTTPAPI does with the body it read.
            Task.detached {
                _ = try! await logic.pushMids(operation: 1000, mids: [mid], message: Data(buffer: body, byteTransferStrategy: .copy))
            }
            arrived.wait()
        }
        bytesPerPush[size] = r.bytesPerOp
        if filter == nil || r.name.contains(filter!) { results.append(r) }
    }
    let perByte = (bytesPerPush[4096]! - bytesPerPush[128]!) / Double(4096 - 128)
    if filter == nil || "push path".contains(filter!) {
        results.append(
            Result(
                name: "push path (\(label)): bytes allocated per body byte (4 KiB - 128 B, / 3,968)", nanosPerOp: 0, mallocsPerOp: 0,
                bytesPerOp: perByte))
    }
}
jobTask.cancel()

// MARK: The gRPC hop (split deployment): job's request to the comet, serialized and parsed

let unit = PushUnit(packets: PacketBatch.join([packet]), count: 1)
run("grpc hop: PushMsgReq from a 128-byte push unit, serialized, parsed back to a unit", iterations: 200_000) {
    var request = Goim_Comet_PushMsgReq()
    request.keys = ["k"]
    request.protoOp = 1000
    request.proto = Goim_Protocol_Proto(unit)
    let bytes: [UInt8] = try! request.serializedBytes()
    let parsed = try! Goim_Comet_PushMsgReq(serializedBytes: bytes)
    _ = try! PushUnit.parse(Packet(parsed.proto))
}

// MARK: Report

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
print(pad("benchmark", 80) + pad("ns/op", 14) + pad("mallocs/op", 12) + "bytes/op")
for r in results {
    print(
        pad(r.name, 80) + pad(String(format: "%.1f", r.nanosPerOp), 14) + pad(String(format: "%.2f", r.mallocsPerOp), 12)
            + String(format: r.bytesPerOp < 100 ? "%.2f" : "%.0f", r.bytesPerOp))
}
try? group.syncShutdownGracefully()
