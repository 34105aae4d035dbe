import Foundation
import HostFileSystem

/// Writes metrics for node_exporter's textfile collector: atomically (a temporary
/// file beside the target, fsynced, renamed over it), so the collector never reads a
/// half-written file. The temporary name does not end in `.prom`, which the collector
/// ignores.
public struct TextfileWriter: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Replaces the file's content with `text`.
    public func write(_ text: String) throws(PosixError) {
        // Its folder is made as the output's is: a metrics folder named but not made yet.
        try Self.makeFolders((path as NSString).deletingLastPathComponent)
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PosixError(errno) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let code = errno
                close(fd)
                unlink(temporary)
                throw PosixError(code)
            }
            offset += written
        }
        let synced = fsync(fd) == 0 ? 0 : errno
        close(fd)
        guard synced == 0, rename(temporary, path) == 0 else {
            let code = synced != 0 ? synced : errno
            unlink(temporary)
            throw PosixError(code)
        }
        Posix.syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// `mkdir -p`, with the failing call's errno.
    static func makeFolders(_ folder: String) throws(PosixError) {
        guard !folder.isEmpty else { return }
        var info = stat()
        if stat(folder, &info) == 0 { return }
        try makeFolders((folder as NSString).deletingLastPathComponent)
        if mkdir(folder, 0o755) != 0 && errno != EEXIST { throw PosixError(errno) }
    }
}
