import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP socket to a loopback port with a receive timeout, for tests that must see exact
/// bytes without the code under test (or any protocol library) in between.
public final class LoopbackSocket {
    private let fd: Int32

    /// Connects to 127.0.0.1:`port`; reads give up after `timeout` seconds without data.
    /// `bufferSize` sets the socket's send and receive buffers (before connecting, so the window
    /// the peer sees is small from the start).
    public init(port: Int, timeout: Int = 5, bufferSize: Int? = nil) throws {
        fd = try Self.connected(port: port, timeout: timeout, bufferSize: bufferSize)
    }

    /// A connected descriptor, or a thrown error with nothing left open. (Closing in a throwing
    /// `init` after `fd` is set would close it twice — `deinit` runs too — and the second close
    /// could hit a descriptor another part of the process has been given meanwhile.)
    private static func connected(port: Int, timeout: Int, bufferSize: Int?) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        if var size = bufferSize.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    public func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }

    /// Closes the sending side (the peer reads end of input); reading goes on.
    public func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Writes what the socket takes without waiting; the number of bytes taken (0 when its buffer is full).
    public func sendWithoutWaiting(_ bytes: [UInt8]) -> Int {
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        return max(n, 0)
    }

    /// Whether the peer has closed the connection (without waiting and without consuming data).
    public var peerClosed: Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Reads until `done` holds for what arrived; `closed` is true when the peer closed first
    /// (false after the timeout).
    public func read(until done: ([UInt8]) -> Bool) -> (bytes: [UInt8], closed: Bool) {
        var got: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !done(got) {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n == 0 { return (got, true) }
            if n < 0 { return (got, false) }
            got += chunk[0..<n]
        }
        return (got, false)
    }

    deinit { close(fd) }
}
