import Foundation
public import HeraldProtocol
import NIOConcurrencyHelpers
public import NIOCore
import NIOHTTP1
import NIOPosix

/// A goim client over Herald's `sse` transport: the token opens an event stream, ops go by POST.
public final class GoimSSEClient: GoimClient {
    public let inbox = PacketInbox()
    public var envelopes: Int { 0 }
    private let host: String
    private let port: Int
    private let path: String
    private let state = NIOLockedValueBox<(session: String?, channel: (any Channel)?)>((nil, nil))

    public init(host: String, port: Int, path: String = "/sse") {
        self.host = host
        self.port = port
        self.path = path
    }

    public func send(_ packet: Packet) async throws {
        if packet.operation == .auth {
            try await openStream(token: String(buffer: packet.body))
            return
        }
        guard let session = state.withLockedValue({ $0.session }) else { throw LongPollClientError.notAuthenticated }
        let response = try await HTTP1Client.request(
            host: host, port: port, method: .POST,
            path: "\(path)/op?session=\(session)&op=\(packet.operation.rawValue)", body: packet.body
        )
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any]
        let replies = (object?["data"] as? [String: Any])?["replies"] as? [[String: Any]] ?? []
        for r in replies { inbox.append(PacketJSON.packet(from: r, sequence: packet.sequence)) }
    }

    public func sendRaw(_ bytes: ByteBuffer) async throws { throw LongPollClientError.unsupported }

    public func pauseReading() async throws {
        try await state.withLockedValue { $0.channel }?.setOption(.autoRead, value: false)
    }

    public func resumeReading() async throws {
        guard let channel = state.withLockedValue({ $0.channel }) else { return }
        try await channel.setOption(.autoRead, value: true)
        channel.read()
    }

    public func close() async {
        try? await state.withLockedValue { $0.channel }?.close()
    }

    private func openStream(token: String) async throws {
        let query = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let parser = SSEEventParser(inbox: inbox) { [state] session in state.withLockedValue { $0.session = session } }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            // A small receive window, so a paused client backs up to the server quickly.
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(parser)
                }
            }
            .connect(host: host, port: port).get()
        state.withLockedValue { $0.channel = channel }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(host):\(port)")
        headers.add(name: "Accept", value: "text/event-stream")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "\(path)/events?token=\(query)", headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil))
    }
}

/// Parses `text/event-stream` into packets for an inbox.
final class SSEEventParser: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    private let inbox: PacketInbox
    private let onSession: @Sendable (String) -> Void
    private var text = ""

    init(inbox: PacketInbox, onSession: @escaping @Sendable (String) -> Void) {
        self.inbox = inbox
        self.onSession = onSession
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head) where head.status != .ok:
            context.close(promise: nil)
        case .head:
            break
        case .body(let part):
            text += String(buffer: part)
            while let end = text.range(of: "\n\n") {
                let event = String(text[..<end.lowerBound])
                text = String(text[end.upperBound...])
                handle(event)
            }
        case .end:
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.close()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func handle(_ event: String) {
        var name = "message"
        var data = ""
        for line in event.split(separator: "\n") {
            if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
            if line.hasPrefix("data: ") { data += line.dropFirst(6) }
        }
        guard !data.isEmpty, let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else { return }
        if name == "session", let session = object["session"] as? String {
            onSession(session)
        } else if name == "message" {
            inbox.append(PacketJSON.packet(from: object, sequence: 1))
        }
    }
}
