import AsyncHTTPClient
import Foundation
import HeraldApp
import HeraldProtocol
import HeraldTesting
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import Testing

/// TLS on the tcp, websocket (wss) and API listeners, with a self-signed certificate made by
/// `openssl` for the test; certificate reload on a configuration reload.
@Suite("end to end: TLS")
struct TLSTests {
    /// A self-signed certificate and key for 127.0.0.1 in a temporary directory.
    struct TestCertificate {
        let directory: URL
        var certificate: String { directory.appendingPathComponent("cert.pem").path }
        var key: String { directory.appendingPathComponent("key.pem").path }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }

        /// (Re)writes the files with a new certificate whose common name is `name`.
        func issue(_ name: String) throws {
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            openssl.arguments = [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=\(name)", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", key, "-out", certificate,
            ]
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            try #require(openssl.terminationStatus == 0, "openssl made a test certificate")
        }

        var pem: [UInt8] { Array(FileManager.default.contents(atPath: certificate) ?? Data()) }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    /// A client TLS hook that trusts only `trusted` (self-signed: the server must present exactly
    /// that certificate, or the handshake fails) and records the certificate the server presented.
    static func clientTLS(
        trusting trusted: [UInt8], seen: NIOLockedValueBox<[String]>? = nil
    ) throws -> @Sendable (any Channel) throws -> Void {
        var configuration = TLSConfiguration.makeClientConfiguration()
        let trustedCertificates = try NIOSSLCertificate.fromPEMBytes(trusted)
        configuration.trustRoots = .certificates(trustedCertificates)
        configuration.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: configuration)
        return { channel in
            // The callback replaces NIOSSL's own verification, so it verifies: the presented leaf
            // must be the trusted self-signed certificate.
            let handler = try NIOSSLClientHandler(context: context, serverHostname: nil) { chain, promise in
                let subject = chain.first.map { "\($0.description)" } ?? ""
                seen?.withLockedValue { $0.append(subject) }
                let trusted = chain.first.map { trustedCertificates.contains($0) } ?? false
                promise.succeed(trusted ? .certificateVerified : .failed)
            }
            try channel.pipeline.syncOperations.addHandler(handler, position: .first)
        }
    }

    static func config(_ cert: TestCertificate, logic: String = "") -> String {
        gatewayTOML(
            logic: "tls = true\n\(logic)", extra: "[tls]\ncertificate_file = \"\(cert.certificate)\"\nprivate_key_file = \"\(cert.key)\""
        )
        .replacingOccurrences(of: "[transport.tcp]\n", with: "[transport.tcp]\ntls = true\n")
        .replacingOccurrences(of: "[transport.websocket]\n", with: "[transport.websocket]\ntls = true\n")
    }

    /// An HTTPS client of the API that trusts the test certificate.
    static func https(_ cert: TestCertificate) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(cert.pem))
        tls.certificateVerification = .noHostnameVerification
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(tlsConfiguration: tls))
    }

    static func push(_ client: HTTPClient, port: Int, _ path: String, body: String) async throws -> String {
        var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(5))
        return String(buffer: try await response.body.collect(upTo: 1 << 16))
    }

    @Test("tcp and wss clients connect over TLS and receive a push made through the HTTPS API; plain text is refused")
    func listeners() async throws {
        let cert = try TestCertificate()
        defer { cert.remove() }
        try cert.issue("herald-test")
        let secure = try Self.clientTLS(trusting: cert.pem)
        try await withGateway(Self.config(cert)) { g in
            let tcp = try await GoimTCPClient.connect(host: "127.0.0.1", port: g.tcpPort, secure: secure)
            #expect(try await tcp.authenticate(AuthToken(mid: 1, roomID: "live://tls", accepts: [1000])))
            let wss = try await GoimWebSocketClient.connect(host: "127.0.0.1", port: g.wsPort, secure: secure)
            #expect(try await wss.authenticate(AuthToken(mid: 2, roomID: "live://tls", accepts: [1000])))

            let api = try Self.https(cert)
            let answer = try await Self.push(api, port: g.apiPort, "/goim/push/room?operation=1000&type=live&room=tls", body: "over tls")
            try await api.shutdown()
            #expect(answer.contains(#""code":0"#), "\(answer)")
            #expect(await tcp.inbox.next()?.text == "over tls")
            #expect(await wss.inbox.next()?.text == "over tls")

            // A plain-text goim client on the TLS port never authenticates.
            let plain = try await g.tcp()
            try await plain.send(Packet(version: 1, operation: .auth, sequence: 1, body: ByteBuffer(string: #"{"mid":3}"#)))
            #expect(await plain.inbox.next(timeout: .seconds(2))?.operation != .authReply)
            #expect(await plain.inbox.waitForClose(), "the TLS handshake fails and the connection closes")
            for c in [tcp, wss, plain] as [any GoimClient] { await c.close() }
        }
    }

    @Test("a reload re-reads the certificate files: new connections get the new certificate, open ones stay")
    func certificateReload() async throws {
        let cert = try TestCertificate()
        defer { cert.remove() }
        try cert.issue("herald-first")
        let firstPEM = cert.pem
        let toml = Self.config(cert)
        try await withGateway(toml) { g in
            let seen = NIOLockedValueBox<[String]>([])
            let before = try await GoimTCPClient.connect(
                host: "127.0.0.1", port: g.tcpPort, secure: try Self.clientTLS(trusting: firstPEM, seen: seen))
            #expect(try await before.authenticate(AuthToken(mid: 1, accepts: [1000])))
            #expect(seen.withLockedValue { $0.last ?? "" }.contains("herald-first"))

            try cert.issue("herald-second")
            let secondPEM = cert.pem
            let report = try await g.server.reload(HeraldConfiguration.parse(toml))
            #expect(
                report == ReloadReport(applied: [], needsRestart: []), "the same file: no key changed, the certificate files are re-read")
            let after = try await GoimTCPClient.connect(
                host: "127.0.0.1", port: g.tcpPort, secure: try Self.clientTLS(trusting: cert.pem, seen: seen))
            #expect(try await after.authenticate(AuthToken(mid: 2, accepts: [1000])))
            #expect(seen.withLockedValue { $0.last ?? "" }.contains("herald-second"), "\(seen.withLockedValue { $0 })")
            #expect(try await before.heartbeat() != nil, "the connection opened before the reload still works")

            // Files that cannot be read keep the running certificate.
            try "not a certificate".write(toFile: cert.certificate, atomically: true, encoding: .utf8)
            await #expect(throws: (any Error).self) { try await g.server.reload(HeraldConfiguration.parse(toml)) }
            let still = try await GoimTCPClient.connect(
                host: "127.0.0.1", port: g.tcpPort, secure: try Self.clientTLS(trusting: secondPEM, seen: seen))
            #expect(try await still.authenticate(AuthToken(mid: 3, accepts: [1000])), "the second certificate is still served")
            #expect(seen.withLockedValue { $0.last ?? "" }.contains("herald-second"))
            // A client that trusts only the first certificate, no longer served, is refused.
            let stale = try await GoimTCPClient.connect(host: "127.0.0.1", port: g.tcpPort, secure: try Self.clientTLS(trusting: firstPEM))
            let staleAdmitted = (try? await stale.authenticate(AuthToken(mid: 4, accepts: [1000]), timeout: .seconds(3))) ?? false
            #expect(!staleAdmitted, "a certificate the client does not trust fails the handshake")
            for c in [before, after, still, stale] { await c.close() }
        }
    }

    @Test("tls = true without [tls] is refused at start, naming the key")
    func missingCertificate() throws {
        #expect(throws: (any Error).self) {
            _ = try HeraldServer(
                configuration: HeraldConfiguration.parse(
                    gatewayTOML().replacingOccurrences(of: "[transport.tcp]\n", with: "[transport.tcp]\ntls = true\n")))
        }
        do {
            _ = try HeraldConfiguration.parse(gatewayTOML(logic: "tls = true"))
            Issue.record("logic.tls without [tls] must be refused")
        } catch {
            #expect("\(error)".contains("logic.tls"))
        }
    }
}
