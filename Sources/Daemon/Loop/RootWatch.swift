import Foundation
import HostFileSystem
import Ingest
import Logging
import Watch

/// The watched directory as the loop sees it: present (watched with inotify, or polled)
/// or missing (its nearest existing ancestor watched with inotify, so that its creation
/// is seen at once; polled only in poll mode).
final class RootWatch {
    enum State {
        case unknown
        case missing(ParentWatcher?)
        case present(InotifyWatcher?)
    }

    private let directory: String
    private let polling: Bool
    private let layout: any TrainerLayout
    private let wake: @Sendable () -> Void
    private let logger: Logger
    private(set) var state = State.unknown

    init(directory: String, polling: Bool, layout: any TrainerLayout, logger: Logger, wake: @escaping @Sendable () -> Void) {
        self.directory = directory
        self.polling = polling
        self.layout = layout
        self.logger = logger
        self.wake = wake
    }

    var isPresent: Bool { if case .present = state { true } else { false } }

    /// Whether changes are seen by inotify (else the loop must poll).
    var isWatched: Bool {
        switch state {
        case .present(let watcher): watcher != nil
        case .missing(let watcher): watcher != nil
        case .unknown: false
        }
    }

    /// Looks at the directory and arms or disarms watching as it came or went.
    func refresh() {
        if Self.isDirectory(directory) {
            if !isPresent { arm() }
            return
        }
        if isPresent { disarm("\(directory) disappeared; waiting for it to come back") }
        awaitDirectory()
    }

    /// Takes the events since the last call: the checkpoint folders that appeared, and
    /// whether anything happened at all. Reacts to the directory going away.
    func drain() -> (appeared: Set<String>, any: Bool) {
        guard case .present(let watcher?) = state else { return ([], false) }
        let events = watcher.drain()
        if events.contains(.overflow) { logger.notice("inotify queue overflowed; rescanning \(directory)") }
        if events.contains(.rootGone) { disarm("\(directory) was deleted or moved; waiting for it to come back") }
        let appeared = Set(events.compactMap { event -> String? in
            if case .folderAppeared(let name) = event { name } else { nil }
        })
        return (appeared, !events.isEmpty)
    }

    func stop() {
        switch state {
        case .present(let watcher): watcher?.stop()
        case .missing(let watcher): watcher?.stop()
        case .unknown: break
        }
        state = .unknown
    }

    private func arm() {
        stop()
        var watcher: InotifyWatcher?
        if !polling {
            do {
                let layout = self.layout
                watcher = try InotifyWatcher(directory: directory,
                                             isCheckpointFolder: { [directory] in if case .checkpoint = layout.classify($0, in: directory) { true } else { false } },
                                             wake: wake)
                watcher?.start()
            } catch {
                logger.error("inotify unavailable for \(directory), polling instead: \(error)")
            }
        }
        state = .present(watcher)
    }

    private func disarm(_ reason: String) {
        logger.warning("\(reason)")
        stop()
    }

    /// Watches the nearest existing ancestor; arms at once if the directory appeared
    /// meanwhile (an event from before the watch existed would be lost).
    private func awaitDirectory() {
        if case .missing(let current) = state, polling || current?.ancestor == ParentWatcher.nearestExistingAncestor(of: directory) {
            return
        }
        if case .unknown = state { logger.notice("waiting for \(directory) to appear") }
        stop()
        var watcher: ParentWatcher?
        if !polling {
            do { watcher = try ParentWatcher(awaiting: directory, wake: wake) } catch {
                logger.error("cannot watch for \(directory) to appear, polling instead: \(error)")
            }
        }
        state = .missing(watcher)
        if Self.isDirectory(directory) { arm() }
    }

    /// Why the directory is not there, for `STATUS=`: not created yet, or hidden by a
    /// parent folder this user may not search (it exists, but mwad cannot tell).
    var absence: String {
        var info = stat()
        if stat(directory, &info) != 0, errno == EACCES {
            return "cannot see \(directory): a parent folder is not searchable by user \(Posix.userName) (Permission denied)"
        }
        return "waiting for \(directory) to appear"
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
