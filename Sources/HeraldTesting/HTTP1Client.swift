public import NIOCore
public import NIOHTTP1
public import NIOPosix

/// A minimal HTTP/1.1 client on NIO: one connection per request (`Connection: close`).
/// Test and load tooling only; loopback servers.
public enum HTTP1Client {
    public struct Response: Sendable {
        public var status: Int
        public var body: ByteBuffer
        /// The response's headers (names as sent).
        public var headers: [(name: String, value: String)] = []
    }

    public static func request(
        host: String,
        port: Int,
        method: HTTPMethod,
        path: String,
        body: ByteBuffer? = nil,
        headers extraHeaders: [(String, String)] = [],
        timeout: TimeAmount = .seconds(60),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> Response {
        let loop = group.next()
        let promise = loop.makePromise(of: Response.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            promise.fail(error)  // never leave the promise uncompleted
            throw error
        }
        var headers = HTTPHeaders()
        if !extraHeaders.contains(where: { $0.0.lowercased() == "host" }) { headers.add(name: "Host", value: "\(host):\(port)") }
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Content-Length", value: String(body?.readableBytes ?? 0))
        if body != nil { headers.add(name: "Content-Type", value: "application/octet-stream") }
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body, body.readableBytes > 0 { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timer = loop.scheduleTask(in: timeout) { promise.fail(ChannelError.connectTimeout(timeout)) }
        defer { timer.cancel() }
        do {
            let response = try await promise.futureResult.get()
            try? await channel.close()
            return response
        } catch {
            try? await channel.close()
            throw error
        }
    }
}

private final class ResponseCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<HTTP1Client.Response>
    private nonisolated(unsafe) var status = 0
    private nonisolated(unsafe) var headers: [(name: String, value: String)] = []
    private nonisolated(unsafe) var body = ByteBuffer()

    init(promise: EventLoopPromise<HTTP1Client.Response>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            headers = head.headers.map { ($0.name, $0.value) }
        case .body(var part): body.writeBuffer(&part)
        case .end: promise.succeed(HTTP1Client.Response(status: status, body: body, headers: headers))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
