import AsyncHTTPClient
public import HeraldCore
import NIOCore

/// What the console of a split deployment's logic knows beyond its own process: the processes in
/// the registry, and their `/metrics`, which it scrapes (at most once a second, whoever asks) and
/// adds to its own, so the figures shown are the cluster's, not logic's alone.
public struct ConsoleCluster: Sendable {
    /// This process's registry key (`logic/<id>`): its own figures are not scraped twice.
    public var selfKey: String
    public var processes: @Sendable () async throws -> [ProcessNode]
    /// Sent as `Authorization: Bearer <token>` to every `/metrics` (the cluster's `[metrics] token`).
    public var metricsToken: String?

    public init(selfKey: String, processes: @escaping @Sendable () async throws -> [ProcessNode], metricsToken: String?) {
        self.selfKey = selfKey
        self.processes = processes
        self.metricsToken = metricsToken
    }
}

/// The scrape of a cluster's processes, shared by every console request within a second.
actor ClusterScrape {
    struct Result: Sendable {
        var processes: [ProcessNode] = []
        /// Why the registry could not be read.
        var registryError: String?
        /// The other processes' samples, added up.
        var samples = MetricSamples(text: [])
        /// By process key: scraped, or why not.
        var scraped: [String: String?] = [:]
    }

    private let cluster: ConsoleCluster
    private var last: (at: ContinuousClock.Instant, result: Result)?

    init(cluster: ConsoleCluster) {
        self.cluster = cluster
    }

    func read() async -> Result {
        if let last, ContinuousClock.now - last.at < .seconds(1) { return last.result }
        var result = Result()
        do {
            result.processes = try await cluster.processes()
        } catch {
            result.registryError = "\(error)"
        }
        let targets = result.processes.filter { $0.key != cluster.selfKey && !$0.metricsAddress.isEmpty }
        let token = cluster.metricsToken
        let scrapes = await withTaskGroup(of: (String, Result.Scrape).self) { group in
            for process in targets {
                group.addTask { (process.key, await Self.scrape(process.metricsAddress, token: token)) }
            }
            var out: [(String, Result.Scrape)] = []
            for await s in group { out.append(s) }
            return out
        }
        for (key, scrape) in scrapes {
            switch scrape {
            case .samples(let s):
                result.samples.add(s)
                result.scraped[key] = .some(nil)
            case .failed(let why):
                result.scraped[key] = .some(why)
            }
        }
        last = (.now, result)
        return result
    }

    private static func scrape(_ address: String, token: String?) async -> Result.Scrape {
        var request = HTTPClientRequest(url: "http://\(address)/metrics")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(2))
            let body = try await response.body.collect(upTo: 8 << 20)
            guard response.status == .ok else { return .failed("HTTP \(response.status.code)") }
            return .samples(MetricSamples(text: Array(body.readableBytesView)))
        } catch {
            return .failed("\(error)")
        }
    }
}

extension ClusterScrape.Result {
    enum Scrape: Sendable {
        case samples(MetricSamples)
        case failed(String)
    }
}
