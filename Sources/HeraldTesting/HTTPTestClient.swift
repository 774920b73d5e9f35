import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Calls Herald's HTTP API and decodes goim's envelope.
public struct HTTPTestClient: Sendable {
    public struct Reply: Sendable {
        public var status: Int
        public var code: Int
        public var message: String
        /// The `data` member as JSON text, if present.
        public var data: String?
        public var json: [String: any Sendable]
    }

    public let base: String

    public init(host: String, port: Int) {
        base = "http://\(host):\(port)"
    }

    public func post(_ pathAndQuery: String, body: [UInt8]) async throws -> Reply {
        try await call("POST", pathAndQuery, body: body)
    }

    public func post(_ pathAndQuery: String, body: String) async throws -> Reply {
        try await call("POST", pathAndQuery, body: Array(body.utf8))
    }

    public func get(_ pathAndQuery: String) async throws -> Reply {
        try await call("GET", pathAndQuery, body: nil)
    }

    private func call(_ method: String, _ pathAndQuery: String, body: [UInt8]?) async throws -> Reply {
        var request = URLRequest(url: URL(string: base + pathAndQuery)!)
        request.httpMethod = method
        if let body { request.httpBody = Data(body) }
        request.timeoutInterval = 10
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        var dataText: String?
        if let d = object["data"], let encoded = try? JSONSerialization.data(withJSONObject: d, options: [.sortedKeys, .fragmentsAllowed]) {
            dataText = String(decoding: encoded, as: UTF8.self)
        }
        return Reply(
            status: status,
            code: object["code"] as? Int ?? Int.min,
            message: object["message"] as? String ?? "",
            data: dataText,
            json: [:]
        )
    }
}
