import HeraldProtocol

/// One open connection to a comet, whatever carries it: packets in, packets out. A push that
/// arrives in an op-9 envelope is handed on as its inner packets.
protocol ClientConnection: AnyObject, Sendable {
    /// The packets the server sends, in order; ends when the connection does.
    var packets: AsyncThrowingStream<Packet, any Error> { get }
    func send(_ packet: Packet) async throws
    /// Closes the connection; ``packets`` ends.
    func close() async
}

/// Opens connections for a client. The default is SwiftNIO's; on Apple platforms WebSocket
/// endpoints without a custom opener use URLSession.
protocol ClientConnector: Sendable {
    func open(_ endpoint: HeraldEndpoint, configuration: HeraldClient.Configuration) async throws -> any ClientConnection
}

extension Packet {
    /// This packet, or the packets inside it when it is an op-9 envelope (nested envelopes too).
    func unwrapped(maxBodySize: Int) throws -> [Packet] {
        guard operation == .raw else { return [self] }
        var out: [Packet] = []
        for inner in try PacketBatch.split(body, maxBodySize: maxBodySize) {
            out.append(contentsOf: try inner.unwrapped(maxBodySize: maxBodySize))
        }
        return out
    }
}
