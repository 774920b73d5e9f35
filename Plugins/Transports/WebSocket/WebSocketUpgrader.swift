import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// The RFC 6455 opening handshake, installing Herald's own frame decoder afterwards instead of
/// NIO's frame encoder and decoder: a WebSocket connection then carries two handlers, as a TCP one
/// does (the decoder and the session), which keeps an idle connection's memory down. Pushes are
/// framed once per batch by ``WebSocketPacketFraming`` and written as bytes.
final class WebSocketUpgrader: HTTPServerProtocolUpgrader, Sendable {
    private static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    let supportedProtocol = "websocket"
    // Checked in buildUpgradeResponse: NIO would also demand them in the Connection header.
    let requiredUpgradeHeaders: [String] = []

    private let shouldUpgrade: @Sendable (HTTPRequestHead) -> Bool
    private let install: @Sendable (any Channel) throws -> Void

    /// `shouldUpgrade` decides on the request (path, Origin); `install` adds the connection's
    /// handlers once the 101 response is out.
    init(shouldUpgrade: @escaping @Sendable (HTTPRequestHead) -> Bool, install: @escaping @Sendable (any Channel) throws -> Void) {
        self.shouldUpgrade = shouldUpgrade
        self.install = install
    }

    func buildUpgradeResponse(
        channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        let keys = upgradeRequest.headers["Sec-WebSocket-Key"]
        guard keys.count == 1, let key = keys.first, upgradeRequest.headers["Sec-WebSocket-Version"] == ["13"] else {
            return channel.eventLoop.makeFailedFuture(WebSocketUpgradeRefused.badHandshake)
        }
        guard shouldUpgrade(upgradeRequest) else {
            return channel.eventLoop.makeFailedFuture(WebSocketUpgradeRefused.notHere)
        }
        var headers = initialResponseHeaders
        headers.replaceOrAdd(name: "Upgrade", value: "websocket")
        headers.replaceOrAdd(name: "Connection", value: "upgrade")
        headers.add(name: "Sec-WebSocket-Accept", value: Self.accept(key: key))
        return channel.eventLoop.makeSucceededFuture(headers)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let channel = context.channel
        return channel.eventLoop.makeCompletedFuture { try install(channel) }
    }

    /// `Sec-WebSocket-Accept` for a client's key: base64(SHA-1(key + the RFC's GUID)).
    static func accept(key: String) -> String {
        Data(Insecure.SHA1.hash(data: Data((key + guid).utf8))).base64EncodedString()
    }
}

/// Why a request on the WebSocket port was not upgraded (it is then answered as plain HTTP).
enum WebSocketUpgradeRefused: Error {
    case badHandshake
    case notHere
}
