import Foundation

/// Real `redis-server` processes on free loopback ports, started for one test and stopped after it.
public final class RedisServers {
    private var processes: [Process] = []
    public private(set) var addresses: [String] = []

    public init(count: Int) throws {
        for _ in 0..<count {
            let port = TestPorts.block(1)
            processes.append(try Self.launch(port: port))
            addresses.append("127.0.0.1:\(port)")
        }
        for address in addresses { try Self.waitUntilReady(address) }
    }

    /// Starts server `index` again on its port (after ``stop(_:)``).
    public func restart(_ index: Int) throws {
        processes[index] = try Self.launch(port: Int(addresses[index].split(separator: ":")[1])!)
        try Self.waitUntilReady(addresses[index])
    }

    private static func launch(port: Int) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning",
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    private static func waitUntilReady(_ address: String) throws {
        let port = Int(address.split(separator: ":")[1])!
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? send(["PING"], port: port))?.hasPrefix("+PONG") ?? false
            if !ready { usleep(50_000) }
        }
        guard ready else { throw RedisServerError(message: "redis-server on \(address) did not answer PING") }
    }

    /// Sends one command over a plain socket and returns the raw reply (for checks that must not use the code under test).
    public static func send(_ args: [String], port: Int) throws -> String {
        let socket = try LoopbackSocket(port: port)
        var request = "*\(args.count)\r\n"
        for a in args { request += "$\(a.utf8.count)\r\n\(a)\r\n" }
        socket.send(Array(request.utf8))
        let (reply, _) = socket.read { $0.suffix(2).elementsEqual([13, 10]) }
        return String(decoding: reply, as: UTF8.self)
    }

    public func dbsize(_ address: String) throws -> Int {
        let reply = try Self.send(["DBSIZE"], port: Int(address.split(separator: ":")[1])!)
        // ":<n>\r\n" ("\r\n" is one Character in Swift)
        return Int(reply.dropFirst().filter(\.isNumber)) ?? -1
    }

    /// Stops server `index` and waits (bounded) until it is gone.
    public func stop(_ index: Int) {
        let p = processes[index]
        guard p.isRunning else { return }
        // SIGKILL: a child spawned from a test thread can inherit a mask that blocks SIGTERM.
        kill(p.processIdentifier, SIGKILL)
        for _ in 0..<200 where p.isRunning { usleep(10_000) }
    }

    /// Stops every server. Call it in a `defer` right after creating the servers: that also keeps
    /// this object alive until the test ends.
    public func stopAll() {
        for i in processes.indices { stop(i) }
    }

    deinit { stopAll() }
}

struct RedisServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
