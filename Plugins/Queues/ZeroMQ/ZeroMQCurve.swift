import CZeroMQ
import HeraldCore

/// CURVE, libzmq's encryption and authentication (`[queue.zeromq] curve_*`): the job side's PULL
/// socket is a CURVE server that admits only the logic processes whose public keys it lists
/// (`curve_clients`); the logic side's PUSH sockets are CURVE clients that know the job's public
/// key (`curve_server_key`). Keys are Z85 text, 40 characters; `herald zeromq-keygen` makes a pair.
public struct ZeroMQCurve: Sendable, Hashable {
    /// This process's secret key, and the public key derived from it.
    public var secretKey: String
    public var publicKey: String
    /// Connect side: the job's public key.
    public var serverKey: String?
    /// Bind side: the logic processes' public keys admitted.
    public var clients: Set<String>

    /// Reads the `curve_*` keys of `[queue.zeromq]`; nil when none is set.
    init?(_ table: ConfigTable, binds: Bool, connects: Bool) throws(ConfigError) {
        let secret = try table.string("curve_secret_key")
        let serverKey = try table.string("curve_server_key")
        let clients = try table.stringArray("curve_clients", default: [])
        guard secret != nil || serverKey != nil || !clients.isEmpty else { return nil }
        guard let secret else {
            throw ConfigError(
                key: table.keyPath("curve_secret_key"), message: "CURVE needs this process's secret key (herald zeromq-keygen makes a pair)"
            )
        }
        guard let publicKey = Self.publicKey(ofSecret: secret) else {
            throw ConfigError(key: table.keyPath("curve_secret_key"), message: "is not a 40-character Z85 CURVE secret key")
        }
        for key in clients + [serverKey].compactMap({ $0 }) where !Self.isKey(key) {
            throw ConfigError(
                key: table.keyPath(clients.contains(key) ? "curve_clients" : "curve_server_key"),
                message: "\"\(key)\" is not a 40-character Z85 CURVE public key")
        }
        if binds && clients.isEmpty {
            throw ConfigError(
                key: table.keyPath("curve_clients"), message: "a CURVE bind admits only the listed logic public keys; list at least one")
        }
        if connects && serverKey == nil {
            throw ConfigError(key: table.keyPath("curve_server_key"), message: "a CURVE connect needs the job's public key")
        }
        self.secretKey = secret
        self.publicKey = publicKey
        self.serverKey = serverKey
        self.clients = Set(clients)
    }

    /// A new key pair (public, secret), Z85.
    public static func keypair() -> (publicKey: String, secretKey: String)? {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { return nil }
        return (Self.string(publicKey), Self.string(secretKey))
    }

    static func publicKey(ofSecret secret: String) -> String? {
        guard isKey(secret) else { return nil }
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secret) == 0 else { return nil }
        return string(publicKey)
    }

    static func isKey(_ key: String) -> Bool {
        guard key.utf8.count == 40 else { return false }
        var decoded = [UInt8](repeating: 0, count: 32)
        return zmq_z85_decode(&decoded, key) != nil
    }

    /// The Z85 text of a 32-byte key as ZAP hands it over (binary).
    static func z85(_ key: [UInt8]) -> String? {
        guard key.count == 32 else { return nil }
        var text = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&text, key, 32) != nil else { return nil }
        return string(text)
    }

    private static func string(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Makes `socket` the CURVE server (bind side).
    func applyServer(to socket: ZeroMQSocket) throws(QueueError) {
        try socket.set(ZMQ_CURVE_SERVER, 1)
        try socket.set(ZMQ_CURVE_SECRETKEY, secretKey)
    }

    /// Makes `socket` a CURVE client of the job (connect side).
    func applyClient(to socket: ZeroMQSocket) throws(QueueError) {
        guard let serverKey else { return }
        try socket.set(ZMQ_CURVE_SERVERKEY, serverKey)
        try socket.set(ZMQ_CURVE_PUBLICKEY, publicKey)
        try socket.set(ZMQ_CURVE_SECRETKEY, secretKey)
    }
}
