/// Why bytes from a client could not be read as a goim packet.
///
/// Every case closes the offending connection only; ``reason`` is the stable label used in logs
/// and in the `herald_connections_closed_total{reason=...}` metric.
public enum PacketError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The header length field was not 16.
    case badHeaderLength(Int)
    /// The packet length field was below the 16-byte header.
    case packetTooShort(Int)
    /// The body is longer than the configured maximum.
    case bodyTooLarge(length: Int, limit: Int)
    /// A message-framed transport delivered fewer bytes than a header.
    case truncated(length: Int)
    /// A message-framed transport delivered a message whose length disagrees with the packet length.
    case lengthMismatch(declared: Int, actual: Int)

    public var reason: String {
        switch self {
        case .badHeaderLength: "bad_header_length"
        case .packetTooShort: "packet_too_short"
        case .bodyTooLarge: "body_too_large"
        case .truncated: "truncated_packet"
        case .lengthMismatch: "length_mismatch"
        }
    }

    public var description: String {
        switch self {
        case .badHeaderLength(let n): "header length \(n), expected 16"
        case .packetTooShort(let n): "packet length \(n) is shorter than the 16-byte header"
        case .bodyTooLarge(let length, let limit): "body of \(length) bytes exceeds the limit of \(limit)"
        case .truncated(let n): "message of \(n) bytes is shorter than the 16-byte header"
        case .lengthMismatch(let declared, let actual):
            "packet length \(declared) disagrees with the message length \(actual)"
        }
    }
}
