import Foundation
import HeraldTesting
import Testing

/// The real `herald serve` executable as a child process, for tests that need a separate process
/// (the Prometheus backend it bootstraps, a second process on a queue, signals). Its output goes to
/// a file that is removed once the child is ready; set `HERALD_TEST_KEEP_LOGS=1` to keep it (the
/// path is the config file's with `.log`, in the temporary directory).
final class HeraldChild {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Ports `base + 1` (tcp), `base + 11` (API) and up to `base + 99` are the test's to use.
    let base: Int
    let role: String
    let configFile: URL
    private let process = Process()

    var api: HTTPTestClient { HTTPTestClient(host: "127.0.0.1", port: base + 11) }
    var tcpPort: Int { base + 1 }
    var pid: Int32 { process.processIdentifier }

    /// The lines every child needs: quiet logs, the API on `base + 11`, tcp on `base + 1`.
    static func baseTOML(_ base: Int, serverID: String = "child") -> String {
        """
        [server]
        id = "\(serverID)"
        [log]
        level = "error"
        [logic]
        listen = "127.0.0.1:\(base + 11)"
        [transport.tcp]
        listen = "127.0.0.1:\(base + 1)"

        """
    }

    /// Writes `config(base)` and starts `herald <role>` on it; returns once `ready` holds (by
    /// default: once the API on `base + 11` answers). Ports from `base` to `base + 99` are the test's.
    init(
        role: String = "serve",
        base: Int = TestPorts.block(),
        config: (Int) -> String,
        ready: ((HeraldChild) async -> Bool)? = nil
    ) async throws {
        self.role = role
        self.base = base
        let binary = Self.root.appendingPathComponent(".build/debug/herald").path
        try #require(
            FileManager.default.isExecutableFile(atPath: binary), "build the executable first (swift build --build-tests builds it)")
        // Unique per child: a restarted child on the same ports must not share a file that its
        // predecessor removes when it is released.
        let name = "herald-child-\(role)-\(base)-\(UUID().uuidString.prefix(8))"
        configFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).toml")
        try config(base).write(to: configFile, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [role, "--config", configFile.path]
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let api = self.api
        let process = self.process
        let answered = await eventually(timeout: .seconds(30)) {
            // A child that exited will not become ready: stop waiting and show its output.
            guard process.isRunning else { return true }
            if let ready { return await ready(self) }
            return (try? await api.get("/goim/online/total"))?.code == 0
        }
        let up = answered && process.isRunning
        let state = process.isRunning ? "still running" : "exited with status \(process.terminationStatus)"
        if !up { stop() }
        let printed = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        if ProcessInfo.processInfo.environment["HERALD_TEST_KEEP_LOGS"] == nil { try? FileManager.default.removeItem(at: log) }
        try #require(up, "herald \(role) on ports \(base)+ not ready within 30 s (\(state)); its output: \(printed.suffix(2000))")
    }

    /// Rewrites the configuration file (followed by a SIGHUP to apply it).
    func rewrite(_ config: (Int) -> String) throws {
        try config(base).write(to: configFile, atomically: true, encoding: .utf8)
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// SIGTERM, then SIGKILL if the process has not exited within ten seconds (a test never hangs
    /// on a child's shutdown; a slow shutdown is what DrainTests examine).
    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: configFile)
    }

    deinit { stop() }
}
