import HeraldCore
import HeraldProtocol
import NIOCore

/// A push ready for delivery: complete inner packets back to back (goim's op-9 body), framed once
/// per transport framing and shared by every connection that uses that framing.
struct PushPayload: Sendable {
    let batch: ByteBuffer
    /// One per packet of ``batch`` (nil: none), or empty: what a recovering connection merges by.
    let identities: [MessageIdentity?]
    let count: Int
    /// The stream the packets belong to when history keeps them (by how they were pushed).
    let kind: HistoryStream.Kind

    init(_ unit: PushUnit, kind: HistoryStream.Kind) {
        batch = unit.packets
        identities = unit.identities
        count = unit.count
        self.kind = kind
        // One pass, no allocation: this runs for every push, with history on or off.
        var lowest = UInt64.max, highest: UInt64 = 0
        var epoch: String?
        var mixed = false
        for case let identity? in unit.identities where identity.offset > 0 {
            lowest = min(lowest, identity.offset)
            highest = max(highest, identity.offset)
            if let seen = epoch { mixed = mixed || seen != identity.epoch } else { epoch = identity.epoch }
        }
        lowestOffset = highest > 0 ? lowest : 0
        highestOffset = highest
        self.epoch = mixed ? nil : epoch
    }

    /// Whether any packet has a history offset.
    var hasOffsets: Bool { highestOffset > 0 }
    /// The lowest and highest offset of its packets (0 when none has one).
    let lowestOffset: UInt64
    let highestOffset: UInt64
    /// The epoch of its stored packets when they share one (nil: none stored, or a batch that
    /// straddles a new epoch).
    let epoch: String?

    /// The packets one by one, with their offset (0: not stored) and epoch.
    func forEachPacket(_ body: (_ packet: ByteBuffer, _ offset: UInt64, _ epoch: String) -> Void) {
        var rest = batch
        var index = 0
        while let length = rest.getInteger(at: rest.readerIndex, as: Int32.self), length >= Packet.headerLength,
            let packet = rest.readSlice(length: Int(length))
        {
            let identity = identities.isEmpty ? nil : identities[index]
            body(packet, identity?.offset ?? 0, identity?.epoch ?? "")
            index += 1
        }
    }

    /// ``batch`` as a client that opted into recovery sees it: each packet history keeps carries
    /// its stream in `ver` and its offset in `seq` (low 32 bits); `keep` picks the packets.
    func positioned(keeping keep: (UInt64, String) -> Bool = { _, _ in true }, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: batch.readableBytes)
        forEachPacket { packet, offset, epoch in
            guard keep(offset, epoch) else { return }
            let start = out.writerIndex
            var p = packet
            out.writeBuffer(&p)
            if offset > 0 {
                out.setInteger(kind.rawValue, at: start + 6)
                out.setInteger(UInt32(truncatingIfNeeded: offset), at: start + 12)
            }
        }
        return out
    }
}

/// Framed bytes of one push, per framing, for one event loop's delivery pass.
struct FramedPushCache {
    let payload: PushPayload
    private let allocator: ByteBufferAllocator
    private var entries: [(ObjectIdentifier, ByteBuffer)] = []
    private var positionedEntries: [(ObjectIdentifier, ByteBuffer)] = []

    init(_ payload: PushPayload, allocator: ByteBufferAllocator) {
        self.payload = payload
        self.allocator = allocator
    }

    mutating func bytes(for framing: any PacketFraming) -> ByteBuffer {
        let id = ObjectIdentifier(framing)
        for (key, bytes) in entries where key == id { return bytes }
        let bytes = framing.frame(batch: payload.batch, allocator: allocator)
        entries.append((id, bytes))
        return bytes
    }

    /// The bytes for a connection that opted into recovery (the same as ``bytes(for:)`` when no
    /// packet has an offset).
    mutating func positionedBytes(for framing: any PacketFraming) -> ByteBuffer {
        guard payload.hasOffsets else { return bytes(for: framing) }
        let id = ObjectIdentifier(framing)
        for (key, bytes) in positionedEntries where key == id { return bytes }
        let bytes = framing.frame(batch: payload.positioned(allocator: allocator), allocator: allocator)
        positionedEntries.append((id, bytes))
        return bytes
    }
}
