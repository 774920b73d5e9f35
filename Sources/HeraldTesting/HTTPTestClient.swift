import Foundation
import NIOCore
import NIOHTTP1

/// Calls Herald's HTTP API and decodes goim's envelope.
public struct HTTPTestClient: Sendable {
    public struct Reply: Sendable {
        public var status: Int
        public var code: Int
        public var message: String
        /// The `data` member as JSON text, if present.
        public var data: String?
        /// The response's headers (names as sent).
        public var headers: [(name: String, value: String)] = []

        /// The first header named `name` (case-insensitive).
        public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    }

    public let host: String
    public let port: Int
    /// Sent as `Authorization: Bearer <token>` when set.
    public var bearerToken: String?

    public init(host: String, port: Int, bearerToken: String? = nil) {
        self.host = host
        self.port = port
        self.bearerToken = bearerToken
    }

    public func post(_ pathAndQuery: String, body: [UInt8]) async throws -> Reply {
        try await call(.POST, pathAndQuery, body: ByteBuffer(bytes: body))
    }

    public func post(_ pathAndQuery: String, body: String) async throws -> Reply {
        try await call(.POST, pathAndQuery, body: ByteBuffer(string: body))
    }

    public func get(_ pathAndQuery: String) async throws -> Reply {
        try await call(.GET, pathAndQuery, body: nil)
    }

    private func call(_ method: HTTPMethod, _ pathAndQuery: String, body: ByteBuffer?) async throws -> Reply {
        let response = try await HTTP1Client.request(
            host: host, port: port, method: method, path: pathAndQuery, body: body,
            headers: bearerToken.map { [("Authorization", "Bearer \($0)")] } ?? []
        )
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
        var dataText: String?
        if let d = object["data"], let encoded = try? JSONSerialization.data(withJSONObject: d, options: [.sortedKeys, .fragmentsAllowed]) {
            dataText = String(decoding: encoded, as: UTF8.self)
        }
        return Reply(
            status: response.status,
            code: object["code"] as? Int ?? Int.min,
            message: object["message"] as? String ?? "",
            data: dataText,
            headers: response.headers
        )
    }
}
