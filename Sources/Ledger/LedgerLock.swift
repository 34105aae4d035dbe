import Foundation

/// The one writer of a ledger: an exclusive `flock(2)` on `LEDGER.lock`, held for the
/// life of the process that writes (`mwad run`, `mwad run --once`, `mwad merge
/// --ledger`). The kernel releases it when the process ends, however it ends, so a
/// crashed daemon never leaves a stale lock; a second writer is refused at once.
/// `mwad status` only reads and never takes it.
public final class LedgerLock: Sendable {
    public let path: String
    private let descriptor: Int32

    /// Takes the lock of the ledger at `ledger`, or throws ``LedgerError/locked(path:pid:)``
    /// naming the process holding it.
    public init(ledger: String) throws(LedgerError) {
        path = ledger + ".lock"
        let folder = (ledger as NSString).deletingLastPathComponent
        if !folder.isEmpty && !FileManager.default.fileExists(atPath: folder) {
            // Each missing folder made in turn, so that the one that fails says why (a
            // read-only file system, no permission), not the lock file inside it.
            var made = folder.hasPrefix("/") ? "" : "."
            for part in folder.split(separator: "/") {
                made += "/\(part)"
                if mkdir(made, 0o755) != 0 && errno != EEXIST {
                    throw .database(path: made, message: "cannot create the state directory: \(String(cString: strerror(errno))); give a writable --state-dir (or state_directory)")
                }
            }
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw .database(path: path, message: "cannot open the lock file: \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let code = errno
            let holder = Self.holder(fd)
            close(fd)
            if code == EWOULDBLOCK { throw .locked(path: ledger, pid: holder) }
            throw .database(path: path, message: "flock: \(String(cString: strerror(code)))")
        }
        descriptor = fd
        // Who holds it, for the message a second writer prints (never used to decide).
        let text = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { close(descriptor) }

    /// Whether the lock file at ``path`` is still the one locked. A lock file deleted
    /// (or replaced) under the holder would let another process create and lock a new
    /// one: two writers on one ledger path.
    public var isHeld: Bool {
        var held = stat(), current = stat()
        guard fstat(descriptor, &held) == 0, stat(path, &current) == 0 else { return false }
        return held.st_dev == current.st_dev && held.st_ino == current.st_ino
    }

    /// The pid written by the process holding the lock, if it wrote one.
    private static func holder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
