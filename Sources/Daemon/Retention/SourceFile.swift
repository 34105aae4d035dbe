import Foundation
import HostFileSystem

/// A trainer's file, open for copying: a regular file (never a FIFO that would block
/// the daemon, a device that never ends, or a symbolic link to elsewhere), with its
/// size and modification time when it was opened.
final class SourceFile {
    let path: String
    let fd: Int32
    let size: Int64
    private let opened: stat

    /// The modification time when it was opened (the copy is refused if it changes).
    var modified: Date {
        Date(timeIntervalSince1970: Double(opened.st_mtim.tv_sec) + Double(opened.st_mtim.tv_nsec) / 1e9)
    }

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            throw RetainError(path: path, reason: code == ELOOP ? "is a symbolic link (not followed)" : Posix.errnoText(code),
                              vanished: code == ENOENT, unreadable: code == EACCES || code == EPERM)
        }
        var info = stat()
        let statFailed = fstat(fd, &info) != 0 ? Posix.errnoText() : nil
        guard statFailed == nil, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw RetainError(path: path, reason: statFailed.map { "fstat: \($0)" } ?? "is not a regular file (\(Self.kind(info.st_mode)))")
        }
        self.path = path
        self.fd = fd
        opened = info
        size = Int64(info.st_size)
    }

    deinit { close(fd) }

    /// Fails when the file changed while it was copied: its content (size or
    /// modification time) through the open descriptor, or the file at its path replaced
    /// by another. A file merely deleted was still copied whole.
    func checkUnchanged(copied: Int64) throws {
        var now = stat()
        guard fstat(fd, &now) == 0 else { throw RetainError(path: path, reason: "fstat: \(Posix.errnoText())") }
        let rewritten = copied != size || now.st_size != opened.st_size
            || now.st_mtim.tv_sec != opened.st_mtim.tv_sec || now.st_mtim.tv_nsec != opened.st_mtim.tv_nsec
        if rewritten { throw RetainError(path: path, reason: "changed while being read (size or modification time differs)", changing: true) }
        var atPath = stat()
        if lstat(path, &atPath) == 0, atPath.st_ino != opened.st_ino || atPath.st_dev != opened.st_dev {
            throw RetainError(path: path, reason: "replaced by another file while being read")
        }
    }

    private static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "mode \(String(mode, radix: 8))"
        }
    }
}
