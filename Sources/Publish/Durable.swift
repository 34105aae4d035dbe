import Foundation
import HostFileSystem

/// fsync helpers: what is renamed into place must already be on disk.
public enum Durable {
    /// fsyncs every regular file below `folder`, then the folder itself.
    static func syncTree(_ folder: String) throws(PublishError) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            try sync(path, flags: O_RDONLY)
        }
        try syncDirectory(folder)
    }

    public static func syncFile(_ path: String) throws(PublishError) {
        try sync(path, flags: O_RDONLY)
    }

    public static func syncDirectory(_ path: String) throws(PublishError) {
        try sync(path, flags: O_RDONLY | O_DIRECTORY)
    }

    /// Writes `data` to a new file at `path` and fsyncs it.
    public static func write(_ data: Data, to path: String) throws(PublishError) {
        do { try data.write(to: URL(fileURLWithPath: path), options: .withoutOverwriting) } catch {
            throw .io(path: path, operation: "writing", reason: "\(error.localizedDescription)")
        }
        try sync(path, flags: O_RDONLY)
    }

    private static func sync(_ path: String, flags: Int32) throws(PublishError) {
        let fd = open(path, flags | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "opening to fsync", reason: Posix.errnoText()) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync", reason: Posix.errnoText()) }
    }

}
