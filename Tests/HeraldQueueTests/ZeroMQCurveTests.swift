import HeraldCore
import HeraldProtocol
import HeraldQueueZeroMQ
import HeraldTesting
import Logging
import Testing

/// CURVE on the zeromq queue against real libzmq sockets: only logic processes whose public keys
/// the job lists get their messages in; a plain-text peer and a peer with another key get nothing in.
@Suite("ZeroMQ CURVE")
struct ZeroMQCurveTests {
    static var logger: Logger {
        var logger = Logger(label: "test.zeromq.curve")
        logger.logLevel = .critical
        return logger
    }

    static func message(_ room: String) -> PushMsg {
        var m = PushMsg()
        m.type = .room
        m.room = room
        return m
    }

    @Test("a job with curve_clients receives only from the admitted logic key; plain-text and unknown-key publishers deliver nothing")
    func onlyAdmittedKeys() async throws {
        let job = try #require(ZeroMQCurve.keypair())
        let logic = try #require(ZeroMQCurve.keypair())
        let stranger = try #require(ZeroMQCurve.keypair())
        let port = TestPorts.block(1)
        // Bound to every interface: CURVE makes that acceptable without insecure = true.
        let jobSide = try ZeroMQQueue(
            configuration: ZeroMQConfiguration(
                ConfigLoader.parse(
                    """
                    bind = "tcp://0.0.0.0:\(port)"
                    curve_secret_key = "\(job.secretKey)"
                    curve_clients = ["\(logic.publicKey)"]
                    """)), logger: Self.logger)
        func publisher(_ extra: String) throws -> ZeroMQQueue {
            try ZeroMQQueue(
                configuration: ZeroMQConfiguration(
                    ConfigLoader.parse(
                        """
                        bind = ""
                        connect = ["tcp://127.0.0.1:\(port)"]
                        send_timeout = "100ms"
                        linger = "0s"
                        \(extra)
                        """)), logger: Self.logger)
        }
        let plain = try publisher("")
        let unknown = try publisher("curve_secret_key = \"\(stranger.secretKey)\"\ncurve_server_key = \"\(job.publicKey)\"")
        let admitted = try publisher("curve_secret_key = \"\(logic.secretKey)\"\ncurve_server_key = \"\(job.publicKey)\"")
        let consumer = try await jobSide.makeConsumer()
        // The refused publishers queue their messages locally (zmq never completes their handshake).
        for _ in 0..<3 {
            try? await plain.publish(Self.message("plain"))
            try? await unknown.publish(Self.message("unknown"))
        }
        for i in 0..<3 { try await admitted.publish(Self.message("admitted-\(i)")) }
        let got = try await QueueConformance.receive(4, from: consumer, acknowledge: true, within: .seconds(3))
        #expect(got.map(\.message.room) == ["admitted-0", "admitted-1", "admitted-2"], "only the admitted key's messages arrived")
        for q in [plain, unknown, admitted, jobSide] { await q.shutdown() }
    }

    @Test(
        "CURVE settings are checked at start-up, naming the key",
        arguments: [
            ("bind = \"tcp://127.0.0.1:*\"\ncurve_secret_key = \"%SECRET%\"", "curve_clients"),
            ("bind = \"\"\nconnect = [\"tcp://127.0.0.1:1\"]\ncurve_secret_key = \"%SECRET%\"", "curve_server_key"),
            ("bind = \"tcp://127.0.0.1:*\"\ncurve_secret_key = \"not-a-key\"\ncurve_clients = [\"%PUBLIC%\"]", "curve_secret_key"),
            ("bind = \"tcp://127.0.0.1:*\"\ncurve_secret_key = \"%SECRET%\"\ncurve_clients = [\"short\"]", "curve_clients"),
            ("bind = \"tcp://127.0.0.1:*\"\ncurve_clients = [\"%PUBLIC%\"]", "curve_secret_key"),
        ])
    func badSettings(toml: String, key: String) throws {
        let pair = try #require(ZeroMQCurve.keypair())
        let text = toml.replacingOccurrences(of: "%SECRET%", with: pair.secretKey).replacingOccurrences(
            of: "%PUBLIC%", with: pair.publicKey)
        let table = try ConfigLoader.parse(text)
        let error = #expect(throws: ConfigError.self) { _ = try ZeroMQConfiguration(table) }
        #expect(error?.key == key, "\(String(describing: error))")
    }
}
