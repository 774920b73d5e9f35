import Foundation
import HeraldApp
import HeraldCore
import HeraldProtocol
import HeraldTesting
import Testing

@Suite("end to end: HTTP API", .serialized)
struct APITests {
    @Test(
        "bad parameters give code -400 naming the parameter",
        arguments: [
            ("/goim/push/keys?keys=a", "operation"),
            ("/goim/push/keys?operation=1000", "keys"),
            ("/goim/push/keys?operation=99999999999&keys=a", "operation"),
            ("/goim/push/mids?operation=1000&mids=1,x", "mids"),
            ("/goim/push/room?operation=1000&room=1", "type"),
            ("/goim/push/room?operation=1000&type=live", "room"),
            ("/goim/push/room?operation=0&type=live&room=1", "operation"),
            ("/goim/push/all?operation=1000&speed=-1", "speed"),
            ("/goim/push/all?operation=abc", "operation"),
        ])
    func badParameters(path: String, parameter: String) async throws {
        try await withGateway { gw in
            let r = try await gw.http.post(path, body: "m")
            #expect(r.status == 200)
            #expect(r.code == -400)
            #expect(r.message.hasPrefix(parameter + ":"), "message \(r.message) names \(parameter)")
        }
    }

    @Test("query endpoints validate their parameters")
    func queryParameters() async throws {
        try await withGateway { gw in
            let noLimit = try await gw.http.get("/goim/online/top?type=live")
            #expect(noLimit.code == -400 && noLimit.message.hasPrefix("limit:"))
            let zero = try await gw.http.get("/goim/online/top?type=live&limit=0")
            #expect(zero.message.hasPrefix("limit:"))
            let noRooms = try await gw.http.get("/goim/online/room?type=live")
            #expect(noRooms.message.hasPrefix("rooms:"))
            let empty = try await gw.http.get("/goim/online/top?type=live&limit=3")
            #expect(empty.data == "[]")
        }
    }

    @Test("a message over the size limit is refused, not truncated")
    func oversizedBody() async throws {
        try await withGateway(gatewayTOML(logic: "max_message_size = 100")) { gw in
            let c = try await gw.client(.tcp, AuthToken(mid: 1, key: "k", accepts: [1000]))
            let r = try await gw.http.post("/goim/push/keys?operation=1000&keys=k", body: String(repeating: "z", count: 101))
            #expect(r.status == 413)
            #expect(r.code == -400 && r.message.hasPrefix("body:"))
            let ok = try await gw.http.post("/goim/push/keys?operation=1000&keys=k", body: String(repeating: "z", count: 100))
            #expect(ok.code == 0)
            #expect(await c.inbox.next()?.body.readableBytes == 100)
            await c.close()
        }
    }

    @Test("nodes and totals describe this comet")
    func nodes() async throws {
        try await withGateway(gatewayTOML(comet: #"public_addresses = ["10.0.0.1"]"#)) { gw in
            let c = try await gw.client(.tcp, AuthToken(mid: 1))
            let total = try await gw.http.get("/goim/online/total")
            #expect(total.data == #"{"conn_count":1,"ip_count":1}"#)
            let weighted = try await gw.http.get("/goim/nodes/weighted?platform=web")
            #expect(weighted.data?.contains(#""nodes":["10.0.0.1"]"#) == true)
            #expect(weighted.data?.contains(#""heartbeat":240"#) == true)
            let instances = try await gw.http.get("/goim/nodes/instances")
            #expect(instances.data?.contains(#""hostname":"test-comet""#) == true)
            await c.close()
        }
    }

    @Test("an unknown plugin name fails at start-up listing the registered names")
    func unknownPlugin() throws {
        let config = try HeraldConfiguration.parse(gatewayTOML(extra: "[queue]\nplugin = \"kafkaa\""))
        do {
            _ = try HeraldServer(configuration: config)
            Issue.record("expected a plugin error")
        } catch let error as PluginError {
            #expect(error.kind == "queue" && error.registered == ["kafka", "memory", "migration", "zeromq"])
        }
        let transport = try HeraldConfiguration.parse(gatewayTOML(extra: "[transport.quic]\nlisten = \"127.0.0.1:0\""))
        #expect(throws: PluginError.self) { try HeraldServer(configuration: transport) }
    }

    @Test("the shipped configuration files parse")
    func shippedConfigs() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try HeraldConfiguration.load(path: root.appendingPathComponent("configs/herald.toml").path)
        #expect(config.queuePlugin == "memory")
        #expect(config.transports.map(\.name).sorted() == ["longpoll", "tcp", "websocket"])
        #expect(config.logic.httpPort == 3111)
        for name in ["kafka", "zeromq", "migration"] {
            _ = try HeraldConfiguration.load(path: root.appendingPathComponent("configs/\(name).toml").path)
        }
    }

    @Test("the split deployment's configuration files parse, with a secret file created once and shared")
    func clusterConfigs() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secretFile = directory.appendingPathComponent("rpc-secret").path
        var secrets: Set<String?> = []
        for role in ["comet", "logic", "job"] {
            // The shipped path is relative to the working directory; point it into this test's directory.
            let text = try String(contentsOf: root.appendingPathComponent("configs/cluster/\(role).toml"), encoding: .utf8)
                .replacingOccurrences(of: #"secret_file = "configs/cluster/rpc-secret""#, with: #"secret_file = "\#(secretFile)""#)
            #expect(text.contains(secretFile), "\(role).toml names the secret file")
            let config = try HeraldConfiguration.parse(text)
            secrets.insert(config.cluster.credentials.secret)
            #expect(config.cluster.credentials.authenticatesCallers, "\(role) requires the secret")
        }
        #expect(secrets.count == 1, "every role uses the one secret")
        let secret = try #require(secrets.first ?? nil)
        #expect(secret.count == 64 && secret.allSatisfy(\.isHexDigit))
        let mode = try FileManager.default.attributesOfItem(atPath: secretFile)[.posixPermissions] as? Int
        #expect(mode == 0o600, "readable by the owner only")
    }
}
