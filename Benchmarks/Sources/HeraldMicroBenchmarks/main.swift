import Foundation
import HeraldComet
import HeraldCore
import HeraldLogic
import HeraldProtocol
import HeraldQueueMemory
import HeraldRouterMemory
import HeraldTransportWebSocket
import Logging
import MallocInterposerSwift
import NIOCore
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
    return Result(name: name, nanosPerOp: best, mallocsPerOp: Double(mallocs) / Double(iterations), bytesPerOp: Double(bytes) / Double(iterations))
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

final class CountingLink: ClientLink {
    let eventLoop: any EventLoop
    let framing: any PacketFraming
    let transportName = "bench"
    var remoteAddress: SocketAddress? { nil }
    var isWritable: Bool { true }
    var bytes = 0
    var session: (any ClientSession)?

    init(eventLoop: any EventLoop, framing: any PacketFraming) {
        self.eventLoop = eventLoop
        self.framing = framing
    }

    func send(_ bytes: ByteBuffer) { self.bytes &+= bytes.readableBytes }
    func close(_ reason: CloseReason) {}
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let loop = group.next()
var logger = Logger(label: "bench")
logger.logLevel = .critical
let logic = try! Logic(
    configuration: LogicConfiguration(), router: MemoryRouter(), queue: MemoryQueue(),
    nodes: StaticNodes(), logger: logger
)
struct StaticNodes: NodeDirectory { func nodes() async -> [CometNode] { [] } }
let comet = Comet(configuration: CometConfiguration(serverID: "bench"), logic: logic, eventLoopGroup: group, logger: logger)

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
        results.append(Result(name: "fan-out: per session (\(n))", nanosPerOp: r.nanosPerOp / Double(n), mallocsPerOp: r.mallocsPerOp / Double(n), bytesPerOp: r.bytesPerOp / Double(n)))
    }
    precondition(links.allSatisfy { $0.bytes > 0 }, "every session received the batch")
}

// MARK: Report

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
print(pad("benchmark", 80) + pad("ns/op", 14) + pad("mallocs/op", 12) + "bytes/op")
for r in results {
    print(pad(r.name, 80) + pad(String(format: "%.1f", r.nanosPerOp), 14) + pad(String(format: "%.2f", r.mallocsPerOp), 12) + String(format: "%.0f", r.bytesPerOp))
}
try? group.syncShutdownGracefully()
