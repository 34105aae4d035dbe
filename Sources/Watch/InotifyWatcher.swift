import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Watches a trainer's output directory with Linux inotify: the directory for
/// checkpoint folders appearing and vanishing, and each checkpoint folder for files
/// being completed.
///
/// The inotify descriptor is non-blocking and read by a Dispatch read source (epoll),
/// so nothing spins. Events are coalesced into a set, drained by the consumer after a
/// wake-up; a backlog too large to keep becomes a single ``WatchEvent/overflow``.
// @unchecked: a Dispatch source may be resumed and cancelled from any thread; all
// other mutable state is behind the mutex.
public final class InotifyWatcher: @unchecked Sendable {
    public let directory: String
    private let descriptor: Int32
    private let isCheckpointFolder: @Sendable (String) -> Bool
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "mwad.inotify")
    private let source: any DispatchSourceRead
    private let wake: @Sendable () -> Void

    /// Most events kept before the backlog collapses into one overflow.
    static let backlogLimit = 10_000

    struct State {
        var folders: [Int32: String] = [:]  // watch descriptor → folder name
        var rootWatch: Int32 = -1
        var pending: Set<WatchEvent> = []
        var started = false
        var stopped = false
    }

    // IN_CLOSE_WRITE: a checkpoint that is a file (kohya, ai-toolkit) is complete when
    // closed after writing, in the root itself.
    private static let rootMask = UInt32(IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)
        | UInt32(IN_ONLYDIR)
    private static let folderMask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF) | UInt32(IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW)

    /// Sets up watches on `directory` and on its checkpoint folders (as told by
    /// `isCheckpointFolder`); events are read only after ``start()``. `wake` is
    /// called (on the watcher's queue) whenever new events can be drained.
    public init(directory: String, isCheckpointFolder: @escaping @Sendable (String) -> Bool,
                wake: @escaping @Sendable () -> Void) throws(WatchError) {
        self.directory = directory
        self.isCheckpointFolder = isCheckpointFolder
        self.wake = wake
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw WatchError.inotify("inotify_init1", errno: errno) }
        let root = inotify_add_watch(descriptor, directory, Self.rootMask)
        guard root >= 0 else {
            let code = errno
            close(descriptor)
            throw WatchError.inotify("watching \(directory)", errno: code)
        }
        let fd = descriptor
        source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setCancelHandler { close(fd) }
        state.withLock { $0.rootWatch = root }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where isCheckpointFolder(name) {
            addFolderWatch(name)
        }
    }

    deinit {
        stop()
    }

    /// Starts reading events.
    public func start() {
        let fresh = state.withLock { state -> Bool in
            guard !state.started, !state.stopped else { return false }
            state.started = true
            return true
        }
        guard fresh else { return }
        source.setEventHandler { [weak self] in self?.readEvents() }
        source.resume()
    }

    /// Stops reading and closes the descriptor (in the source's cancel handler).
    public func stop() {
        let started = state.withLock { state -> Bool? in
            guard !state.stopped else { return nil }
            state.stopped = true
            return state.started
        }
        guard let started else { return }
        source.cancel()
        // Dispatch must not release a source never resumed; resuming after cancel
        // runs only the cancel handler.
        if !started { source.resume() }
    }

    /// Takes every event seen since the last call.
    public func drain() -> Set<WatchEvent> {
        state.withLock { state in
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
    }

    /// The checkpoint folders currently watched.
    public var watchedFolders: Set<String> {
        state.withLock { Set($0.folders.values) }
    }

    /// Watches `name` and reports it, so that its content is scanned now that events
    /// from it can no longer be missed. It is reported even when it is already gone
    /// again: the daemon then records that it saw a checkpoint it could not read.
    private func addFolderWatch(_ name: String) {
        let wd = inotify_add_watch(descriptor, "\(directory)/\(name)", Self.folderMask)
        state.withLock { state in
            if wd >= 0 { state.folders[wd] = name }  // else gone again, or a symlink: the next scan decides
            Self.add(.folderAppeared(name), to: &state)
        }
    }

    private func readEvents() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }  // EAGAIN: drained
            parse(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        wake()
    }

    /// Walks the packed `struct inotify_event` records in `bytes`.
    private func parse(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        let header = MemoryLayout<inotify_event>.size
        while offset + header <= bytes.count {
            let wd = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameBytes = UnsafeRawBufferPointer(rebasing: bytes[(offset + header)..<min(bytes.count, offset + header + length)])
            let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
            handle(wd: wd, mask: mask, name: name)
            offset += header + length
        }
    }

    private func handle(wd: Int32, mask: UInt32, name: String) {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            record(.overflow)
            return
        }
        let (isRoot, folder) = state.withLock { ($0.rootWatch == wd, $0.folders[wd]) }
        if isRoot {
            handleRoot(mask: mask, name: name)
        } else if let folder {
            handleFolder(wd: wd, folder: folder, mask: mask, name: name)
        }
    }

    private func handleRoot(mask: UInt32, name: String) {
        if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 {
            record(.rootGone)
            return
        }
        guard isCheckpointFolder(name) else { return }
        if mask & UInt32(IN_ISDIR) == 0 {
            // A checkpoint file: written, renamed in, or gone; there is nothing in it to watch.
            if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 {
                record(.folderAppeared(name))
            } else if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
                record(.folderVanished(name))
            }
            return
        }
        if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
            addFolderWatch(name)
        } else if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
            record(.folderVanished(name))
        }
    }

    private func handleFolder(wd: Int32, folder: String, mask: UInt32, name: String) {
        if mask & UInt32(IN_IGNORED) != 0 {
            state.withLock { _ = $0.folders.removeValue(forKey: wd) }
        } else if mask & UInt32(IN_DELETE_SELF) != 0 {
            record(.folderVanished(folder))
        } else if !name.isEmpty, mask & UInt32(IN_ISDIR) == 0 {
            record(.fileWritten(folder: folder, file: name))
        }
    }

    private func record(_ event: WatchEvent) {
        state.withLock { Self.add(event, to: &$0) }
    }

    private static func add(_ event: WatchEvent, to state: inout State) {
        if state.pending.count >= backlogLimit {
            state.pending = [.overflow]
        } else {
            state.pending.insert(event)
        }
    }
}

/// Why watching could not start.
public struct WatchError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var code: Int32

    static func inotify(_ operation: String, errno code: Int32) -> WatchError {
        WatchError(operation: operation, code: code)
    }

    public var description: String {
        let hint = code == ENOSPC ? " (raise fs.inotify.max_user_watches)" : code == EMFILE ? " (raise fs.inotify.max_user_instances)" : ""
        return "\(operation): \(String(cString: strerror(code)))\(hint)"
    }
}
