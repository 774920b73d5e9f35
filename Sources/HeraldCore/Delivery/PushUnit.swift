public import HeraldProtocol
public import NIOCore

/// What travels from the job to a comet and on to the sockets: one or more complete goim packets
/// back to back (the body of goim's op-9 envelope, which exists only on the gRPC hop) and the
/// identity of each. The comet frames it once per framing and shares the bytes among the
/// connections it writes to.
public struct PushUnit: Sendable {
    /// Complete packets back to back.
    public private(set) var packets: ByteBuffer
    /// How many packets ``packets`` holds.
    public private(set) var count: Int
    /// The identity of each packet in order, nil for a packet without one; empty when none has one.
    public private(set) var identities: [MessageIdentity?]

    /// A unit of already encoded packets. `identities` is empty or has one entry per packet.
    public init(packets: ByteBuffer, count: Int, identities: [MessageIdentity?] = []) {
        precondition(identities.isEmpty || identities.count == count, "one identity per packet")
        self.packets = packets
        self.count = count
        self.identities = identities.contains(where: { $0 != nil }) ? identities : []
    }

    /// The packet a queue message asks to deliver (version 1, its operation, sequence 0, its body).
    public init(message: PushMsg, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        var buffer = allocator.buffer(capacity: Packet.headerLength + message.msg.count)
        buffer.writePacketHeader(bodyLength: message.msg.count, version: 1, operation: Operation(message.operation), sequence: 0)
        buffer.writeBytes(message.msg)
        self.init(packets: buffer, count: 1, identities: [MessageIdentity(of: message)])
    }

    /// One packet.
    public init(packet: Packet) {
        var buffer = ByteBufferAllocator().buffer(capacity: packet.packetLength)
        buffer.writePacket(packet)
        self.init(packets: buffer, count: 1)
    }

    /// The bytes of ``packets``.
    public var byteCount: Int { packets.readableBytes }

    /// Appends `other`'s packets after this unit's (a merged room or key batch).
    public mutating func append(_ other: PushUnit) {
        var bytes = other.packets
        packets.writeBuffer(&bytes)
        if !identities.isEmpty || !other.identities.isEmpty {
            if identities.isEmpty { identities = Array(repeating: nil, count: count) }
            identities += other.identities.isEmpty ? Array(repeating: nil, count: other.count) : other.identities
        }
        count += other.count
    }

    /// The unit without the packets at the given positions; nil when that leaves none.
    public func removing(_ positions: Set<Int>) -> PushUnit? {
        guard !positions.isEmpty else { return self }
        guard positions.count < count else { return nil }
        var rest = packets
        var out = ByteBufferAllocator().buffer(capacity: packets.readableBytes)
        var kept: [MessageIdentity?] = []
        for index in 0..<count {
            guard let length = rest.getInteger(at: rest.readerIndex, as: Int32.self), let slice = rest.readSlice(length: Int(length)) else {
                break
            }
            guard !positions.contains(index) else { continue }
            var s = slice
            out.writeBuffer(&s)
            kept.append(identities.isEmpty ? nil : identities[index])
        }
        return PushUnit(packets: out, count: kept.count, identities: kept)
    }

    /// A unit from goim's op-9 body (or any one packet), validating the inner packets: what a comet
    /// receives over gRPC.
    public static func parse(_ packet: Packet, maxBodySize: Int = Int(Int32.max)) throws(PacketError) -> PushUnit {
        guard packet.operation == .raw else { return PushUnit(packet: packet) }
        var rest = packet.body
        var n = 0
        while rest.readableBytes > 0 {
            guard try PacketDecoder.readPacket(from: &rest, maxBodySize: maxBodySize) != nil else {
                throw .truncated(length: rest.readableBytes)
            }
            n += 1
        }
        return PushUnit(packets: packet.body, count: n)
    }

    /// This unit with the given identities (one per packet, or none); nil when the counts differ.
    public func identified(by identities: [MessageIdentity?]) -> PushUnit? {
        guard identities.isEmpty || identities.count == count else { return nil }
        return PushUnit(packets: packets, count: count, identities: identities)
    }
}
