import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HeraldProtocol
import HeraldRPC
import HeraldTesting
import Testing

/// goim's Go services compress with gzip (its comet sends `RenewOnline` gzip-compressed): every
/// method of Herald's logic and comet gRPC services is called here with gzip, by a plain grpc-swift
/// client like a goim component would, against the real `herald logic` and `herald comet`.
@Suite("gRPC: gzip-compressed calls to logic and comet", .serialized)
struct GRPCCompressionTests {
    @Test(
        "every goim.logic.Logic and goim.comet.Comet method called with gzip gets its correct reply (RenewOnline, Connect, Heartbeat, Receive, Disconnect, Nodes; BroadcastRoom, PushMsg, PushMsgs, Broadcast, Rooms)"
    )
    func gzipCalls() async throws {
        let redis = try RedisServers(count: 1)
        defer { redis.stopAll() }
        let layout = ClusterTests.Layout(redis: redis.addresses)
        let b = layout.base
        let roles = try await TrustBoundaryTests.SplitRoles(layout)
        defer { roles.stop() }

        // The client must enable gzip for its calls to be sent compressed (a call's compression
        // that its transport does not enable is silently dropped to none).
        var transportConfig = HTTP2ClientTransport.Posix.Config.defaults
        transportConfig.compression = .init(algorithm: .gzip, enabledAlgorithms: [.gzip])
        var gzip = CallOptions.defaults
        gzip.compression = .gzip
        gzip.timeout = .seconds(10)

        try await withGRPCClient(
            transport: .http2NIOPosix(
                target: .ipv4(address: "127.0.0.1", port: layout.logicRPC), transportSecurity: .plaintext, config: transportConfig)
        ) { client in
            let logic = Goim_Logic_Logic.Client(wrapping: client)

            var online = Goim_Logic_OnlineReq()
            online.server = "goim-comet-1"
            online.roomCount = ["live://gzip": 7]
            let counts = try await logic.renewOnline(online, options: gzip)
            #expect(counts.allRoomCount["live://gzip"] == 7, "\(counts.allRoomCount)")

            // A session on the registered comet (presence only counts registered comets).
            var connect = Goim_Logic_ConnectReq()
            connect.server = "comet-a"
            connect.token = Data(AuthToken(mid: 41, key: "gzip-key", roomID: "live://gzip", accepts: [1000]).jsonBytes())
            let connected = try await logic.connect(connect, options: gzip)
            #expect(connected.mid == 41)
            #expect(connected.key == "gzip-key")
            #expect(connected.roomID == "live://gzip")
            #expect(connected.accepts == [1000])

            var heartbeat = Goim_Logic_HeartbeatReq()
            heartbeat.mid = 41
            heartbeat.key = "gzip-key"
            heartbeat.server = "comet-a"
            _ = try await logic.heartbeat(heartbeat, options: gzip)

            let session = try await roles.logic.api.get("/goim/online/users?mids=41")
            #expect(session.data?.contains(#""online":true"#) == true, "the gzip Connect made a session: \(session.data ?? "")")

            var disconnect = Goim_Logic_DisconnectReq()
            disconnect.mid = 41
            disconnect.key = "gzip-key"
            disconnect.server = "comet-a"
            #expect(try await logic.disconnect(disconnect, options: gzip).has)

            var receive = Goim_Logic_ReceiveReq()
            receive.mid = 41
            receive.proto.op = 4
            receive.proto.body = Data("upstream".utf8)
            _ = try await logic.receive(receive, options: gzip)

            var nodes = Goim_Logic_NodesReq()
            nodes.platform = "web"
            _ = try await logic.nodes(nodes, options: gzip)
        }

        // The comet's service: a client in a room receives what gzip-compressed calls push.
        let member = try await GoimTCPClient.connect(host: "127.0.0.1", port: b + 1)
        defer { Task { await member.close() } }
        #expect(try await member.authenticate(AuthToken(mid: 42, key: "gzip-member", roomID: "live://gzip", accepts: [1000])))
        try await withGRPCClient(
            transport: .http2NIOPosix(
                target: .ipv4(address: "127.0.0.1", port: b + 9), transportSecurity: .plaintext, config: transportConfig)
        ) { client in
            let comet = Goim_Comet_Comet.Client(wrapping: client)
            func proto(_ text: String) -> Goim_Protocol_Proto {
                var p = Goim_Protocol_Proto()
                p.ver = 1
                p.op = 1000
                p.body = Data(text.utf8)
                return p
            }
            var room = Goim_Comet_BroadcastRoomReq()
            room.roomID = "live://gzip"
            room.proto = proto("room")
            _ = try await comet.broadcastRoom(room, options: gzip)
            var push = Goim_Comet_PushMsgReq()
            push.keys = ["gzip-member"]
            push.protoOp = 1000
            push.proto = proto("key")
            _ = try await comet.pushMsg(push, options: gzip)
            var batch = Goim_Comet_PushMsgsReq()
            var batched = push
            batched.proto = proto("batch")
            batch.pushes = [batched]
            _ = try await comet.pushMsgs(batch, options: gzip)
            var all = Goim_Comet_BroadcastReq()
            all.protoOp = 1000
            all.proto = proto("all")
            _ = try await comet.broadcast(all, options: gzip)
            let rooms = try await comet.rooms(Goim_Comet_RoomsReq(), options: gzip)
            #expect(rooms.rooms["live://gzip"] == true, "\(rooms.rooms)")
        }
        var received: [String] = []
        while received.count < 4, let packet = await member.inbox.next(timeout: .seconds(10)) {
            if packet.operation.rawValue == 1000 { received.append(packet.text) }
        }
        #expect(received.sorted() == ["all", "batch", "key", "room"], "\(received)")
    }
}
