import AsyncHTTPClient
public import HeraldCore
import NIOCore
import NIOPosix

/// What the console of a split deployment's logic knows beyond its own process: the processes in
/// the registry, and their `/metrics`, which it scrapes (at most once a second, one scrape shared
/// by every request meanwhile) and adds to its own, so the figures shown are the cluster's, not
/// logic's alone.
public struct ConsoleCluster: Sendable {
    /// This process's registry key (`logic/<id>`): its own figures are not scraped again.
    public var selfKey: String
    /// This process's own announced metrics address, also not scraped.
    public var selfMetrics: String?
    public var processes: @Sendable () async throws -> [ProcessNode]
    /// Sent as `Authorization: Bearer <token>` to every `/metrics` (the cluster's `[metrics] token`).
    public var metricsToken: String?

    public init(
        selfKey: String, selfMetrics: String?, processes: @escaping @Sendable () async throws -> [ProcessNode], metricsToken: String?
    ) {
        self.selfKey = selfKey
        self.selfMetrics = selfMetrics
        self.processes = processes
        self.metricsToken = metricsToken
    }
}

/// The scrape of a cluster's processes.
///
/// - The registry read and every scrape are bounded by one deadline (``deadline``), the body
///   included; a process that does not answer in time is "not counted" with that reason.
/// - Redirects are not followed, and an entry's address must be a plain `host:port`: an entry
///   cannot send the metrics token anywhere but to `http://host:port/metrics`.
/// - A process whose scrape failed keeps its last scraped figures in the sum (so rates and the
///   migration's counters do not jump when one scrape fails), marked as such.
actor ClusterScrape {
    struct Result: Sendable {
        var processes: [ProcessNode] = []
        /// Why the registry could not be read.
        var registryError: String?
        /// The other processes' samples, added up.
        var samples = MetricSamples(text: [])
        /// By process key: nil when scraped just now, else why not.
        var failures: [String: String] = [:]
        /// The keys whose figures are in ``samples`` (scraped now, or their last good scrape).
        var counted: Set<String> = []
    }

    static let deadline: Duration = .seconds(3)

    private let cluster: ConsoleCluster
    /// One client for every console of the process, never shut down (as `HTTPClient.shared`),
    /// that follows no redirect.
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(3))
        return HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
    }()
    private var last: (at: ContinuousClock.Instant, result: Result)?
    private var inFlight: Task<Result, Never>?
    /// The last good samples of each process, for a scrape that fails.
    private var lastGood: [String: MetricSamples] = [:]

    init(cluster: ConsoleCluster) {
        self.cluster = cluster
    }

    func read() async -> Result {
        if let last, ContinuousClock.now - last.at < .seconds(1) { return last.result }
        if let inFlight { return await inFlight.value }
        let task = Task { await self.scrapeAll() }
        inFlight = task
        let result = await task.value
        inFlight = nil
        last = (.now, result)
        return result
    }

    private func scrapeAll() async -> Result {
        var result = Result()
        let cluster = self.cluster
        switch await Self.withDeadline({ try await cluster.processes() }) {
        case .success(let processes): result.processes = processes
        case .failure(let error): result.registryError = "\(error)"
        }
        var targets: [(String, ScrapeAddress)] = []
        for process in result.processes where process.key != cluster.selfKey {
            guard !process.metricsAddress.isEmpty else {
                result.failures[process.key] = "no [metrics] listen"
                continue
            }
            guard let address = ScrapeAddress(process.metricsAddress) else {
                result.failures[process.key] =
                    "announces \"\(process.metricsAddress)\", not a host:port to scrape (set [metrics] advertise)"
                continue
            }
            guard address.description != cluster.selfMetrics else {
                result.failures[process.key] = "announces this logic's own metrics address"
                continue
            }
            targets.append((process.key, address))
        }
        let token = cluster.metricsToken
        let client = Self.client
        let scrapes = await withTaskGroup(of: (String, Swift.Result<MetricSamples, ScrapeFailure>).self) { group in
            for (key, address) in targets {
                group.addTask {
                    (
                        key,
                        await Self.withDeadline { try await Self.scrape(address, token: token, client: client) }.mapError {
                            ScrapeFailure("\($0)")
                        }
                    )
                }
            }
            var out: [(String, Swift.Result<MetricSamples, ScrapeFailure>)] = []
            for await s in group { out.append(s) }
            return out
        }
        for (key, scrape) in scrapes {
            switch scrape {
            case .success(let samples):
                lastGood[key] = samples
                result.samples.add(samples)
                result.counted.insert(key)
            case .failure(let failure):
                result.failures[key] = failure.message
                if let previous = lastGood[key] {
                    result.samples.add(previous)
                    result.counted.insert(key)
                }
            }
        }
        // Forget processes that left the registry.
        let present = Set(result.processes.map(\.key))
        lastGood = lastGood.filter { present.contains($0.key) }
        return result
    }

    struct ScrapeFailure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    private struct TimedOut: Error, CustomStringConvertible {
        var description: String { "no answer within \(ClusterScrape.deadline)" }
    }

    /// `body`'s result, or a failure once ``deadline`` passed (the body is then cancelled).
    private static func withDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async -> Swift.Result<T, any Error> {
        await withTaskGroup(of: Swift.Result<T, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await body()) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return Task.isCancelled ? nil : .failure(TimedOut())
            }
            var outcome: Swift.Result<T, any Error> = .failure(TimedOut())
            for await next in group {
                if let next {
                    outcome = next
                    break
                }
            }
            group.cancelAll()
            return outcome
        }
    }

    private static func scrape(_ address: ScrapeAddress, token: String?, client: HTTPClient) async throws -> MetricSamples {
        var request = HTTPClientRequest(url: "http://\(address)/metrics")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await client.execute(request, timeout: .seconds(Int64(deadline.components.seconds)))
        let body = try await response.body.collect(upTo: 8 << 20)
        guard response.status == .ok else { throw ScrapeFailure("HTTP \(response.status.code)") }
        return MetricSamples(text: Array(body.readableBytesView))
    }
}
