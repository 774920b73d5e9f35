import Foundation
public import HeraldCore
public import HeraldRPC
public import HeraldTLS

/// `[rpc]` and `[registry]`: how the roles find and call each other when they run as separate
/// processes (`herald comet`, `herald logic`, `herald job`). Unused by `herald serve`.
public struct ClusterSettings: Sendable {
    /// This process's gRPC listener: comet serves `goim.comet.Comet` (default `127.0.0.1:3109`),
    /// logic serves `goim.logic.Logic` (default `127.0.0.1:3119`). A wider address needs
    /// `secret` or `insecure`.
    public var listen: String?
    /// The address other processes use to reach this comet (default: the bound listen address).
    public var advertise: String?
    /// comet: the logic processes' gRPC addresses, balanced round-robin.
    public var logic: [String]
    /// Deadline, attempts and backoff of every call.
    public var policy: RPCCallPolicy
    /// The shared secret every call carries and every listener requires (`[rpc] secret`, or the
    /// first line of `[rpc] secret_file`, created with a random secret when missing), and whether calls without one are admitted
    /// (`[rpc] insecure`, for goim's own job or comet during a migration).
    public var credentials: RPCCredentials
    /// How long a comet's registration lives without renewal, and how often it is renewed (and
    /// how often logic and job re-read the list).
    public var registryTTL: Duration
    public var registryInterval: Duration

    /// `tls`: the `[tls]` certificate, which `[rpc] tls = true` presents between the roles.
    public init(rpc: ConfigTable, registry: ConfigTable, tls: TLSSettings? = nil) throws(ConfigError) {
        listen = try rpc.string("listen")
        if let listen { _ = try HostPort.parse(listen, key: rpc.keyPath("listen")) }
        advertise = try rpc.string("advertise")
        if let advertise { _ = try HostPort.parse(advertise, key: rpc.keyPath("advertise")) }
        logic = try rpc.stringArray("logic", default: ["127.0.0.1:3119"])
        for address in logic { _ = try HostPort.parse(address, key: rpc.keyPath("logic")) }
        policy = RPCCallPolicy(
            timeout: try rpc.duration("timeout", default: .seconds(2)),
            attempts: try rpc.int("attempts", default: 3, in: 1...100),
            backoff: try rpc.duration("backoff", default: .milliseconds(100)),
            maxInFlight: try rpc.int("max_in_flight", default: 256, in: 1...100_000)
        )
        var secret = try rpc.string("secret")
        if let file = try rpc.string("secret_file"), !file.isEmpty {
            guard secret == nil else {
                throw ConfigError(key: rpc.keyPath("secret_file"), message: "set secret or secret_file, not both")
            }
            secret = try SecretFile.readOrCreate(file, key: rpc.keyPath("secret_file"))
        }
        if let secret, secret.utf8.count < 16 {
            // An empty secret would turn the check off without a word: refused like a short one.
            let key = rpc.contains("secret_file") ? "secret_file" : "secret"
            throw ConfigError(
                key: rpc.keyPath(key),
                message: "is \(secret.utf8.count) bytes; use at least 16 (for example the output of `openssl rand -hex 32`)")
        }
        var mutualTLS: RPCCredentials.MutualTLS?
        let trustedFile = try rpc.string("ca_file")
        if try rpc.bool("tls", default: false) {
            guard let tls else {
                throw ConfigError(
                    key: rpc.keyPath("tls"),
                    message: "mutual TLS between the roles presents the [tls] certificate: set [tls] certificate_file and private_key_file")
            }
            guard let trusted = trustedFile, !trusted.isEmpty else {
                throw ConfigError(
                    key: rpc.keyPath("ca_file"),
                    message: "mutual TLS needs the PEM file of the certificates that sign the roles' certificates")
            }
            for (key, path) in [
                ("tls.certificate_file", tls.certificateFile), ("tls.private_key_file", tls.privateKeyFile),
                (rpc.keyPath("ca_file"), trusted),
            ]
            where !FileManager.default.isReadableFile(atPath: path) {
                throw ConfigError(key: key, message: "cannot read \(path)")
            }
            mutualTLS = RPCCredentials.MutualTLS(
                certificateFile: tls.certificateFile, privateKeyFile: tls.privateKeyFile, trustedFile: trusted)
        }
        let insecure = try rpc.bool("insecure", default: false)
        credentials = RPCCredentials(secret: secret, admitWithoutSecret: insecure, tls: mutualTLS)
        registryTTL = try registry.duration("ttl", default: .seconds(10))
        registryInterval = try registry.duration("interval", default: .seconds(3))
        guard registryInterval < registryTTL else {
            throw ConfigError(
                key: registry.keyPath("interval"), message: "must be shorter than ttl, or registrations lapse between renewals")
        }
    }
}
