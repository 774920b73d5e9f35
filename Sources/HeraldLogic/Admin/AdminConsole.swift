import Foundation
import HeraldCore
public import Hummingbird
import NIOCore

/// The operator's console on the API listener, on when `[logic] admin_token` is set:
/// `GET /admin` is the page (it holds no data, so it needs no token), and `GET /admin/snapshot`
/// what the page shows — the cluster, traffic, rooms, queues and the migration — behind
/// `Authorization: Bearer <admin_token>`. The page asks once a second and draws the last minutes.
/// With `room=<room>` the answer has that room's online count, with `mids=1,2` those users'
/// presence (as `/goim/online/users` has it).
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
            var version: String
            /// Seconds since the comet started, and since it last renewed its registration
            /// (nil: not reported).
            var uptimeSeconds: Int64?
            var renewedSecondsAgo: Int64?
        }

        /// A process of the deployment (`herald serve` is one process of role `serve`).
        struct Process: Encodable {
            var id: String
            var role: String
            var version: String
            var uptimeSeconds: Int64?
            var renewedSecondsAgo: Int64?
            /// Its `[metrics] listen` address ("" without one).
            var metrics: String
            /// Its figures are in ``Snapshot/metrics``: this process, scraped just now, or (with a
            /// ``scrapeError``) its last good scrape.
            var counted: Bool
            /// Why its figures could not be scraped just now.
            var scrapeError: String?
        }

        struct Room: Encodable {
            var room: String
            var count: Int32
        }

        /// Milliseconds since 1970.
        var time: Int64
        var comets: [Comet]
        var processes: [Process]
        /// Why the process registry could not be read (the rest is still answered).
        var processesError: String?
        var connections: Int
        var ips: Int
        /// The 20 most populated rooms, of every type.
        var rooms: [Room]
        /// The `herald_*` samples (`name` or `name{labels}`), as `/metrics` has them: this process's,
        /// plus, in a split deployment, those scraped from every other process in the registry.
        var metrics: [String: Double]
        var migration: MigrationVerdict.Answer?
        /// The room asked for (`room=`) and its online count over every comet.
        var room: Room?
        /// The users asked for (`mids=`), by id.
        var users: [String: UserOnline]?
        /// Why the users could not be looked up (the session directory failed); the rest of the
        /// snapshot is still answered.
        var usersError: String?
    }

    /// The most users one snapshot looks up (the page asks again every second).
    static let maxMids = 100

    public static func add(
        to router: Router<BasicRequestContext>, logic: Logic, token: String, metricsText: (@Sendable () -> [UInt8])?,
        serverID: String, role: String, cluster: ConsoleCluster?
    ) {
        let verdict = MigrationVerdict()
        let scrape = cluster.map { ClusterScrape(cluster: $0) }
        let startedAt = HeraldVersion.millis()
        router.get("admin") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: AdminPage.html))
            )
        }
        let data = router.group("admin/snapshot")
        data.add(middleware: APITokenMiddleware(token: token))
        data.get { request, _ in
            let q = QueryParameters(parameters: request.uri.queryParameters)
            let askedRoom: String?
            let askedMids: [Int64]
            do {
                askedRoom = try q.string("room", required: false).flatMap { $0.isEmpty ? nil : $0 }
                askedMids = try q.int64List("mids")
                guard askedMids.count <= maxMids else { throw APIError.badRequest("mids: at most \(maxMids) users at a time") }
            } catch let error as APIError {
                return json(status: .badRequest, Refusal(code: error.code, message: error.message))
            }
            var samples = MetricSamples(text: metricsText?() ?? [])
            let now = HeraldVersion.millis()
            let age = { (millis: Int64) -> Int64? in millis > 0 ? max(0, now - millis) / 1000 : nil }
            var processes: [Snapshot.Process]
            var processesError: String?
            if let scrape {
                let read = await scrape.read()
                samples.add(read.samples)
                processesError = read.registryError
                processes = read.processes.map { p in
                    Snapshot.Process(
                        id: p.id, role: p.role, version: p.version, uptimeSeconds: age(p.startedAtMillis),
                        renewedSecondsAgo: age(p.renewedAtMillis), metrics: p.metricsAddress,
                        counted: p.key == cluster?.selfKey || read.counted.contains(p.key),
                        scrapeError: p.key == cluster?.selfKey ? nil : read.failures[p.key])
                }
            } else {
                processes = [
                    Snapshot.Process(
                        id: serverID, role: role, version: HeraldVersion.current, uptimeSeconds: age(startedAt), renewedSecondsAgo: nil,
                        metrics: "",
                        counted: true)
                ]
            }
            let nodes = await logic.cometNodes()
            let counts = logic.roomCounts()
            let rooms = counts.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }.prefix(20)
            var snapshot = Snapshot(
                time: now,
                comets: nodes.map {
                    Snapshot.Comet(
                        id: $0.id.rawValue, addresses: $0.addresses, weight: $0.weight, connections: $0.connectionCount, ips: $0.ipCount,
                        rpc: $0.rpcAddress, version: $0.version,
                        uptimeSeconds: age($0.startedAtMillis), renewedSecondsAgo: age($0.renewedAtMillis))
                },
                processes: processes,
                processesError: processesError,
                connections: nodes.reduce(0) { $0 + $1.connectionCount },
                ips: nodes.reduce(0) { $0 + $1.ipCount },
                rooms: rooms.map { Snapshot.Room(room: $0.key, count: $0.value) },
                metrics: samples.values,
                migration: verdict.judge(samples),
                room: askedRoom.map { Snapshot.Room(room: $0, count: counts[$0] ?? 0) }
            )
            if !askedMids.isEmpty {
                do { snapshot.users = try await logic.onlineUsers(mids: askedMids) } catch { snapshot.usersError = "\(error)" }
            }
            return json(status: .ok, snapshot)
        }
    }

    /// goim's answer to a bad parameter: code -400 and the parameter named.
    struct Refusal: Encodable {
        var code: Int
        var message: String
    }

    static func json(status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(value)) ?? Data(#"{"code":-500,"message":"encoding failed"}"#.utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
