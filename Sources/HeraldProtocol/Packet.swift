public import NIOCore

/// One goim v2 packet: a 16-byte big-endian header followed by the body.
///
/// ```
/// packLen int32 | headerLen int16 (= 16) | ver int16 | op int32 | seq int32 | body
/// ```
public struct Packet: Sendable, Hashable {
    /// Size of the fixed header in bytes.
    public static let headerLength = 16
    /// goim's default maximum body size (`MaxBodySize = 1 << 12`).
    public static let defaultMaxBodySize = 4096

    public var version: Int16
    public var operation: Operation
    public var sequence: Int32
    public var body: ByteBuffer

    public init(version: Int16 = 1, operation: Operation, sequence: Int32 = 0, body: ByteBuffer = ByteBuffer()) {
        self.version = version
        self.operation = operation
        self.sequence = sequence
        self.body = body
    }

    /// Total encoded size: header plus body.
    public var packetLength: Int { Self.headerLength + body.readableBytes }

    /// The reply to this packet: same version and sequence, the given operation and body.
    public func reply(_ operation: Operation, body: ByteBuffer = ByteBuffer()) -> Packet {
        Packet(version: version, operation: operation, sequence: sequence, body: body)
    }
}

extension ByteBuffer {
    /// Appends `packet` in goim wire format. Returns the number of bytes written.
    @discardableResult
    public mutating func writePacket(_ packet: Packet) -> Int {
        writePacketHeader(
            bodyLength: packet.body.readableBytes,
            version: packet.version,
            operation: packet.operation,
            sequence: packet.sequence
        ) + writeImmutableBuffer(packet.body)
    }

    /// Appends a goim packet header for a body of `bodyLength` bytes. Returns the bytes written (16).
    @discardableResult
    public mutating func writePacketHeader(bodyLength: Int, version: Int16, operation: Operation, sequence: Int32) -> Int {
        writeMultipleIntegers(
            Int32(truncatingIfNeeded: Packet.headerLength + bodyLength),
            Int16(Packet.headerLength),
            version,
            operation.rawValue,
            sequence
        )
    }

    /// Reads one packet that must fill exactly the readable bytes (a WebSocket message carries one packet).
    ///
    /// - Throws: ``PacketError`` when the header is malformed, the body is over `maxBodySize`, or the
    ///   packet length disagrees with the message length.
    public mutating func readWholePacket(maxBodySize: Int = Packet.defaultMaxBodySize) throws(PacketError) -> Packet {
        let available = readableBytes
        guard available >= Packet.headerLength else { throw .truncated(length: available) }
        guard let header = getPacketHeader(at: readerIndex) else { throw .truncated(length: available) }
        try header.validate(maxBodySize: maxBodySize)
        guard Int(header.packetLength) == available else {
            throw .lengthMismatch(declared: Int(header.packetLength), actual: available)
        }
        moveReaderIndex(forwardBy: Packet.headerLength)
        let body = readSlice(length: available - Packet.headerLength)!
        return Packet(version: header.version, operation: header.operation, sequence: header.sequence, body: body)
    }

    /// Reads the fixed header at `index` without moving the reader index.
    public func getPacketHeader(at index: Int) -> PacketHeader? {
        guard
            let (packetLength, headerLength, version, op, seq) = getMultipleIntegers(
                at: index,
                as: (Int32, Int16, Int16, Int32, Int32).self
            )
        else { return nil }
        return PacketHeader(
            packetLength: packetLength,
            headerLength: headerLength,
            version: version,
            operation: Operation(op),
            sequence: seq
        )
    }
}

/// The decoded fixed header of a packet.
public struct PacketHeader: Sendable, Hashable {
    public var packetLength: Int32
    public var headerLength: Int16
    public var version: Int16
    public var operation: Operation
    public var sequence: Int32

    /// Checks the header against goim's rules (stricter where goim crashes).
    public func validate(maxBodySize: Int) throws(PacketError) {
        guard headerLength == Int16(Packet.headerLength) else { throw .badHeaderLength(Int(headerLength)) }
        guard packetLength >= Int32(Packet.headerLength) else { throw .packetTooShort(Int(packetLength)) }
        guard Int(packetLength) - Packet.headerLength <= maxBodySize else {
            throw .bodyTooLarge(length: Int(packetLength) - Packet.headerLength, limit: maxBodySize)
        }
    }
}
