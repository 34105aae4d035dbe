import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Watches for a directory that does not exist yet: inotify on its nearest existing
/// ancestor, for folders created or renamed in (and for the ancestor itself going
/// away). Any such event wakes the daemon, which looks again at once, so a run
/// directory the trainer creates is seen the moment it appears, not at the next poll.
// @unchecked: the Dispatch source is safe to cancel from any thread; the rest is immutable.
public final class ParentWatcher: @unchecked Sendable {
    /// The ancestor being watched.
    public let ancestor: String
    private let source: any DispatchSourceRead
    private let stopped = Atomic<Bool>(false)

    private static let mask = UInt32(IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF) | UInt32(IN_ONLYDIR)

    /// Watches the nearest existing ancestor of `target`; `wake` is called on every event.
    public init(awaiting target: String, wake: @escaping @Sendable () -> Void) throws(WatchError) {
        ancestor = Self.nearestExistingAncestor(of: target)
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw WatchError.inotify("inotify_init1", errno: errno) }
        guard inotify_add_watch(fd, ancestor, Self.mask) >= 0 else {
            let code = errno
            close(fd)
            throw WatchError.inotify("watching \(ancestor)", errno: code)
        }
        source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: DispatchQueue(label: "mwad.inotify.parent"))
        source.setEventHandler {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 8)
            defer { buffer.deallocate() }
            while read(fd, buffer.baseAddress, buffer.count) > 0 {}  // only "something happened" matters
            wake()
        }
        source.setCancelHandler { close(fd) }
        source.resume()
    }

    deinit { stop() }

    /// Stops watching and closes the descriptor.
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        source.cancel()
    }

    /// The deepest existing directory on the way to `path` (at worst `/`).
    public static func nearestExistingAncestor(of path: String) -> String {
        var current = URL(fileURLWithPath: path).standardizedFileURL
        while current.path != "/" {
            current = current.deletingLastPathComponent()
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: current.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return current.path
            }
        }
        return "/"
    }
}
