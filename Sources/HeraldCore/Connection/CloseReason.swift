/// Why a client connection was closed: a stable label for logs and the
/// `herald_connections_closed_total{reason=...}` metric.
public struct CloseReason: Hashable, Sendable, CustomStringConvertible {
    public var label: String
    public var detail: String

    public init(_ label: String, detail: String = "") {
        self.label = label
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? label : "\(label): \(detail)" }

    public static let clientClosed = CloseReason("client_closed")
    public static let handshakeTimeout = CloseReason("handshake_timeout")
    public static let heartbeatTimeout = CloseReason("heartbeat_timeout")
    public static let replaced = CloseReason("replaced_by_same_key")
    public static let slowConsumer = CloseReason("slow_consumer")
    public static let serverShutdown = CloseReason("server_shutdown")
    public static let tooManyPendingPackets = CloseReason("too_many_packets_before_auth")
    public static let packetRateExceeded = CloseReason("packet_rate_exceeded")

    public static func authFailed(_ detail: String) -> CloseReason { CloseReason("auth_failed", detail: detail) }
    public static func malformed(_ label: String, _ detail: String) -> CloseReason { CloseReason(label, detail: detail) }
    public static func ioError(_ detail: String) -> CloseReason { CloseReason("io_error", detail: detail) }
    public static func protocolError(_ detail: String) -> CloseReason { CloseReason("protocol_error", detail: detail) }
}
