import Foundation
import HeraldCore

/// `[rpc] secret_file`: the shared secret between the roles, kept in a file readable by the owner
/// only. A missing file is created with 32 random bytes (hex), atomically, so the first role
/// started on a machine makes it and the others read the same one; copy it to the other machines.
enum SecretFile {
    static func readOrCreate(_ path: String, key: String) throws(ConfigError) -> String {
        if let existing = read(path) {
            try checkPrivate(path, key: key)
            return existing
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = generator.next() }
        let secret = bytes.map { String(format: "%02x", $0) }.joined()
        let temporary = "\(path).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        guard fd >= 0 else { throw ConfigError(key: key, message: "cannot create \(path): \(String(cString: strerror(errno)))") }
        let line = Array("\(secret)\n".utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        defer { unlink(temporary) }
        guard written == line.count else { throw ConfigError(key: key, message: "cannot write \(path)") }
        // link() fails if another process created the file meanwhile; then theirs is the secret.
        if link(temporary, path) != 0 && errno != EEXIST {
            throw ConfigError(key: key, message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        guard let secret = read(path) else { throw ConfigError(key: key, message: "cannot read \(path)") }
        return secret
    }

    /// Refuses a secret file that others than its owner may read or write.
    private static func checkPrivate(_ path: String, key: String) throws(ConfigError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ConfigError(key: key, message: "cannot read \(path)") }
        guard info.st_mode & 0o077 == 0 else {
            throw ConfigError(
                key: key,
                message: "\(path) is readable or writable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
    }

    /// The file's first line, or nil when it does not exist.
    private static func read(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    }
}
