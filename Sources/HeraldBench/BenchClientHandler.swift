import HeraldProtocol
import NIOCore

/// One load-generating client connection: speaks goim over raw TCP or over WebSocket with a
/// minimal hand-rolled client side (fixed upgrade request, zero-key masked frames), and counts what
/// arrives with as little work per packet as possible so the load tool stays cheap.
final class BenchClientHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// goim over tcp or websocket, or nchan's websocket subscriber (each frame one message body).
    enum Wire { case tcp, websocket(path: String, host: String), nchan(path: String, host: String) }

    private let wire: Wire
    private let token: [UInt8]
    private let pushOperation: Int32
    private let recorder: BenchRecorder
    private let samplesLatency: Bool
    /// Failover bench: the client's room position across connections, and what to do when this
    /// connection closes.
    private let track: RecoveryTrack?
    private let onClosed: (@Sendable (RecoveryTrack) -> Void)?
    private var buffer: ByteBuffer?
    private var upgraded = false
    private var latencies: [UInt64] = []
    private(set) var authenticated = false

    init(
        wire: Wire, token: [UInt8], pushOperation: Int32, recorder: BenchRecorder, samplesLatency: Bool,
        track: RecoveryTrack? = nil, onClosed: (@Sendable (RecoveryTrack) -> Void)? = nil
    ) {
        self.track = track
        self.onClosed = onClosed
        self.wire = wire
        self.token = token
        self.pushOperation = pushOperation
        self.recorder = recorder
        self.samplesLatency = samplesLatency
    }

    func channelActive(context: ChannelHandlerContext) {
        switch wire {
        case .tcp:
            upgraded = true
            sendPacket(context: context, operation: .auth, body: token)
        case .websocket(let path, let host), .nchan(let path, let host):
            let request =
                "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        recorder.closed.wrappingIncrement(ordering: .relaxed)
        flushLatencies()
        context.fireChannelInactive()
        if let track, let onClosed { onClosed(track) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Sends a heartbeat (keeps the connection alive past the server's heartbeat timeout).
    func heartbeat(context: ChannelHandlerContext) {
        sendPacket(context: context, operation: .heartbeat, body: [])
    }

    func flushLatencies() {
        recorder.record(latenciesMicros: latencies)
        latencies.removeAll(keepingCapacity: true)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer == nil || buffer!.readableBytes == 0 {
            buffer = incoming
        } else {
            buffer!.writeBuffer(&incoming)
        }
        var count = 0
        let now = samplesLatency ? MonotonicClock.nanoseconds() : 0
        if !upgraded {
            guard let view = buffer?.readableBytesView, let end = Self.headerEnd(view) else { return }
            let head = String(decoding: view[view.startIndex..<end], as: UTF8.self)
            guard head.hasPrefix("HTTP/1.1 101") else {
                context.close(promise: nil)
                return
            }
            buffer!.moveReaderIndex(forwardBy: end - view.startIndex + 4)
            upgraded = true
            if case .nchan = wire {
                // nchan subscribes on the upgrade: no auth.
                authenticated = true
                recorder.authenticated.wrappingIncrement(ordering: .relaxed)
            } else {
                sendPacket(context: context, operation: .auth, body: token)
            }
        }
        switch wire {
        case .tcp:
            while let packet = readPacket(&buffer!) { count += handle(packet, now: now, context: context) }
        case .websocket:
            while let payload = readFrame(&buffer!) {
                var p = payload
                guard let outer = readPacket(&p) else { continue }
                if outer.op == Operation.raw.rawValue {
                    var inner = outer.body
                    while let packet = readPacket(&inner) { count += handle(packet, now: now, context: context) }
                } else {
                    count += handle(outer, now: now, context: context)
                }
            }
        case .nchan:
            while let (opcode, payload) = readFrameWithOpcode(&buffer!) {
                guard opcode == 1 || opcode == 2 else { continue }  // a ping or close: not a message
                if samplesLatency, let sent = Self.timestamp(payload), now > sent { latencies.append((now - sent) / 1000) }
                count += 1
            }
        }
        if buffer!.readableBytes == 0 { buffer = nil } else { buffer!.discardReadBytes() }
        if count > 0 {
            recorder.received.wrappingIncrement(by: count, ordering: .relaxed)
            recorder.lastReceiveNanos.store(MonotonicClock.nanoseconds(), ordering: .relaxed)
            if latencies.count >= 256 { flushLatencies() }
        }
    }

    private func handle(_ packet: Packet, now: UInt64, context: ChannelHandlerContext) -> Int {
        if packet.op == pushOperation {
            // ver 2: a room push history keeps, its offset in seq.
            if let track, packet.ver == 2 { track.received(offset: UInt64(UInt32(bitPattern: packet.seq))) }
            if samplesLatency, let sent = Self.timestamp(packet.body), now > sent {
                latencies.append((now - sent) / 1000)
            }
            return 1
        }
        if packet.op == Operation.authReply.rawValue, !authenticated {
            if let track, !track.authReplied(packet.body, atNanos: MonotonicClock.nanoseconds()) {
                recorder.unpositioned.wrappingIncrement(ordering: .relaxed)
            }
            authenticated = true
            recorder.authenticated.wrappingIncrement(ordering: .relaxed)
        }
        return 0
    }

    /// The send time written by the pusher: decimal nanoseconds before the first `|`.
    static func timestamp(_ body: ByteBuffer) -> UInt64? {
        var value: UInt64 = 0
        for byte in body.readableBytesView {
            if byte == UInt8(ascii: "|") { return value }
            guard byte >= 48, byte <= 57 else { return nil }
            value = value &* 10 &+ UInt64(byte - 48)
        }
        return nil
    }

    typealias Packet = (op: Int32, ver: Int16, seq: Int32, body: ByteBuffer)

    private func readPacket(_ b: inout ByteBuffer) -> Packet? {
        guard let length = b.getInteger(at: b.readerIndex, as: Int32.self), length >= 16, b.readableBytes >= Int(length),
            let ver = b.getInteger(at: b.readerIndex + 6, as: Int16.self),
            let op = b.getInteger(at: b.readerIndex + 8, as: Int32.self),
            let seq = b.getInteger(at: b.readerIndex + 12, as: Int32.self)
        else { return nil }
        let body = b.getSlice(at: b.readerIndex + 16, length: Int(length) - 16)!
        b.moveReaderIndex(forwardBy: Int(length))
        return (op, ver, seq, body)
    }

    private func readFrame(_ b: inout ByteBuffer) -> ByteBuffer? { readFrameWithOpcode(&b)?.payload }

    /// One server frame (unmasked) and its opcode; control frames are returned too.
    private func readFrameWithOpcode(_ b: inout ByteBuffer) -> (opcode: UInt8, payload: ByteBuffer)? {
        let start = b.readerIndex
        guard let b0 = b.getInteger(at: start, as: UInt8.self) else { return nil }
        guard let b1 = b.getInteger(at: start + 1, as: UInt8.self) else { return nil }
        var length = Int(b1 & 0x7F)
        var header = 2
        if length == 126 {
            guard let l = b.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(l)
            header = 4
        } else if length == 127 {
            guard let l = b.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            length = Int(l)
            header = 10
        }
        guard b.readableBytes >= header + length else { return nil }
        let payload = b.getSlice(at: start + header, length: length)!
        b.moveReaderIndex(forwardBy: header + length)
        return (b0 & 0x0F, payload)
    }

    private func sendPacket(context: ChannelHandlerContext, operation: Operation, body: [UInt8]) {
        var out = context.channel.allocator.buffer(capacity: body.count + 30)
        let length = 16 + body.count
        if case .websocket = wire {
            // Client frames must be masked; a zero mask key leaves the payload as is.
            out.writeInteger(UInt8(0x82))
            if length < 126 {
                out.writeInteger(UInt8(0x80 | length))
            } else {
                out.writeInteger(UInt8(0x80 | 126))
                out.writeInteger(UInt16(length))
            }
            out.writeInteger(UInt32(0))
        }
        out.writePacketHeader(bodyLength: body.count, version: 1, operation: operation, sequence: 1)
        out.writeBytes(body)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    private static func headerEnd(_ view: ByteBufferView) -> Int? {
        let crlf: [UInt8] = [13, 10, 13, 10]
        var i = view.startIndex
        while i + 3 < view.endIndex {
            if view[i] == crlf[0], view[i + 1] == crlf[1], view[i + 2] == crlf[2], view[i + 3] == crlf[3] { return i }
            i += 1
        }
        return nil
    }
}
