public import HeraldCore
import HeraldPluginSupport
import HeraldProtocol
public import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix

/// The `websocket` transport plugin: goim packets in binary WebSocket messages, upgraded at `/sub`
/// (goim's port 3102).
///
/// Config (`[transport.websocket]`): `listen` (default `["0.0.0.0:3102"]`), `path` (`"/sub"`; a
/// query string is allowed), `max_fragments` (100), `allowed_origins` (`[]` = any; otherwise a
/// browser's `Origin` must be one of them), `tls` (false; true serves wss with the `[tls]` certificate),
/// and the socket settings of ``ListenerOptions``.
public final class WebSocketTransport: Transport {
    public let name: String
    private let options: ListenerOptions
    private let path: String
    private let maxFragments: Int
    private let allowedOrigins: Set<String>
    private let security: (any ChannelSecurity)?
    private let context: TransportContext
    private let listeners = ListenerSet()

    public init(context: TransportContext) throws {
        self.context = context
        self.name = context.name
        self.options = try ListenerOptions(config: context.config, defaultListen: "0.0.0.0:3102")
        self.security = try context.listenerSecurity()
        self.path = try context.config.string("path", default: "/sub")
        self.maxFragments = try context.config.int("max_fragments", default: 100, in: 1...10000)
        self.allowedOrigins = Set(try context.config.stringArray("allowed_origins", default: []).map { $0.lowercased() })
    }

    public static func register(in registry: inout PluginRegistry) {
        registry.registerTransport("websocket") { try WebSocketTransport(context: $0) }
    }

    public func start(acceptor: any SessionAcceptor) async throws -> [SocketAddress] {
        let limits = acceptor.limits
        let name = self.name
        let path = self.path
        let maxFragments = self.maxFragments
        let allowedOrigins = self.allowedOrigins
        let security = self.security
        let bootstrap = options.bootstrap(group: context.eventLoopGroup, limits: limits)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpgradeDeadlineHandler(acceptor: acceptor, transport: name))
                    try security?.secure(channel)
                    let rejector = PlainHTTPRejector(path: path, transport: name, acceptor: acceptor, allowedOrigins: allowedOrigins)
                    let upgrader = WebSocketUpgrader(
                        shouldUpgrade: { head in
                            let requestPath = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
                            return requestPath == path && PlainHTTPRejector.originAllowed(head, allowedOrigins)
                        },
                        install: { channel in
                            let sync = channel.pipeline.syncOperations
                            // The session counts from here; the socket's slot and deadline end.
                            let deadline = try sync.handler(type: UpgradeDeadlineHandler.self)
                            deadline.upgraded()
                            sync.removeHandler(deadline, promise: nil)
                            let plain = try sync.context(handlerType: PlainHTTPRejector.self)
                            sync.removeHandler(context: plain, promise: nil)
                            try sync.addHandlers(
                                ByteToMessageHandler(WebSocketPacketDecoder(maxBodySize: limits.maxBodySize, maxFragments: maxFragments)),
                                SessionChannelHandler(acceptor: acceptor, framing: WebSocketPacketFraming.shared, transportName: name)
                            )
                        }
                    )
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                    try channel.pipeline.syncOperations.addHandler(rejector)
                }
            }
        return try await options.bind(bootstrap, into: listeners, context: context)
    }

    public func stopAccepting() async { await listeners.closeAll() }

    public func shutdown() async { await listeners.closeAll() }
}

/// Answers plain HTTP requests (no upgrade, another path, or an Origin not allowed) on the
/// WebSocket port and closes.
final class PlainHTTPRejector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let path: String
    private let transport: String
    private let acceptor: any SessionAcceptor
    private let allowedOrigins: Set<String>
    private var originRefused: String?

    init(path: String, transport: String, acceptor: any SessionAcceptor, allowedOrigins: Set<String>) {
        self.path = path
        self.transport = transport
        self.acceptor = acceptor
        self.allowedOrigins = allowedOrigins
    }

    /// Browsers send `Origin`; other clients do not and are not restricted by it.
    static func originAllowed(_ head: HTTPRequestHead, _ allowed: Set<String>) -> Bool {
        guard !allowed.isEmpty, let origin = head.headers.first(name: "Origin") else { return true }
        return allowed.contains(origin.lowercased())
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head(let head) = part, !Self.originAllowed(head, allowedOrigins) {
            originRefused = head.headers.first(name: "Origin") ?? ""
        }
        guard case .end = part else { return }
        if let origin = originRefused {
            respond(context, status: .forbidden, text: "Origin \(origin) is not allowed\n")
            acceptor.recordRejected(transport: transport, reason: .protocolError("origin not allowed: \(origin)"))
            return
        }
        respond(context, status: .badRequest, text: "WebSocket upgrade required at \(path)\n")
        acceptor.recordRejected(transport: transport, reason: .protocolError("not a WebSocket upgrade"))
    }

    private func respond(_ context: ChannelHandlerContext, status: HTTPResponseStatus, text: String) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        acceptor.recordRejected(transport: transport, reason: .protocolError("bad HTTP request: \(error)"))
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension PlainHTTPRejector: Sendable {}
