import Foundation
public import Hummingbird
import NIOCore

/// The operator's console on the API listener, on when `[logic] admin_token` is set:
/// `GET /admin` is the page (it holds no data, so it needs no token), and `GET /admin/snapshot`
/// what the page shows — the cluster, traffic, rooms, queues and the migration — behind
/// `Authorization: Bearer <admin_token>`. The page asks once a second and draws the last minutes.
public enum AdminConsole {
    /// One answer of `/admin/snapshot`.
    struct Snapshot: Encodable {
        struct Comet: Encodable {
            var id: String
            var addresses: [String]
            var weight: Int
            var connections: Int
            var ips: Int
            var rpc: String
        }

        struct Room: Encodable {
            var room: String
            var count: Int32
        }

        /// Milliseconds since 1970.
        var time: Int64
        var comets: [Comet]
        var connections: Int
        var ips: Int
        /// The 20 most populated rooms, of every type.
        var rooms: [Room]
        /// This process's `herald_*` samples (`name` or `name{labels}`), as `/metrics` has them.
        var metrics: [String: Double]
        var migration: MigrationVerdict.Answer?
    }

    public static func add(to router: Router<BasicRequestContext>, logic: Logic, token: String, metricsText: (@Sendable () -> [UInt8])?) {
        let verdict = MigrationVerdict()
        router.get("admin") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: AdminPage.html))
            )
        }
        let data = router.group("admin/snapshot")
        data.add(middleware: APITokenMiddleware(token: token))
        data.get { _, _ in
            let samples = MetricSamples(text: metricsText?() ?? [])
            let nodes = await logic.cometNodes()
            let rooms = logic.roomCounts().sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }.prefix(20)
            let snapshot = Snapshot(
                time: Int64(Date().timeIntervalSince1970 * 1000),
                comets: nodes.map {
                    Snapshot.Comet(
                        id: $0.id.rawValue, addresses: $0.addresses, weight: $0.weight, connections: $0.connectionCount, ips: $0.ipCount,
                        rpc: $0.rpcAddress)
                },
                connections: nodes.reduce(0) { $0 + $1.connectionCount },
                ips: nodes.reduce(0) { $0 + $1.ipCount },
                rooms: rooms.map { Snapshot.Room(room: $0.key, count: $0.value) },
                metrics: samples.values,
                migration: verdict.judge(samples)
            )
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(snapshot)))
            )
        }
    }
}
