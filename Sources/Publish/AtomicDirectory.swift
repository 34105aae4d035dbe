import CLinuxSupport
import Foundation
import HostFileSystem
import Ingest

/// Replaces a folder so that its path shows, at every instant, either the complete old
/// content or the complete new one — never a mix, never a partial file.
///
/// The new content is built in a hidden sibling (`.NAME.mwad-staging-XXXXXX`, same
/// file system), every file and the folder are fsynced, and the two folders are
/// swapped with `renameat2(RENAME_EXCHANGE)`: one atomic step, and the output stays a
/// real folder that PEFT and `cp -r` treat as usual (a symlink flip would also be
/// atomic, but leaves a link where users expect a folder). Where the file system
/// cannot exchange (some network or FUSE file systems), the old folder is renamed
/// aside and the new one renamed in: the path is then briefly absent, never torn.
/// The old content is deleted after the swap, and the parent fsynced.
public enum AtomicDirectory {
    /// The file whose presence marks a folder as mwad's output, safe to replace.
    public static let marker = "mwa_merge.json"

    /// Builds new content for `target` with `build` (given the staging folder) and
    /// swaps it in. On any error the staging folder is removed and `target` untouched.
    /// `target` must be absent, empty, or hold `marker` (a folder mwad made).
    public static func replace(_ target: String, marker: String = AtomicDirectory.marker,
                               build: (String) throws(PublishError) -> Void) throws(PublishError) {
        let (parent, name) = split(target)
        try checkReplaceable(target, marker: marker)
        try makeParent(parent)
        let staging = try makeStaging(parent: parent, name: name)
        do {
            try build(staging)
            try Durable.syncTree(staging)
            try swap(staging, into: target)
            try Durable.syncDirectory(parent)
        } catch {
            removeQuietly(staging)
            throw error
        }
        removeQuietly(staging)  // after the exchange it holds the old content
    }

    /// Removes staging and set-aside folders (or files, for ``AtomicFile``) a crash left next to `target`.
    public static func removeLeftovers(of target: String) {
        let (parent, name) = split(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        for entry in names where entry.hasPrefix(".\(name).mwad-staging-") || entry.hasPrefix(".\(name).mwad-old-") {
            removeQuietly((parent as NSString).appendingPathComponent(entry))
        }
    }

    /// `target` may be replaced if absent, an empty folder, or a folder with the marker.
    static func checkReplaceable(_ target: String, marker: String = AtomicDirectory.marker) throws(PublishError) {
        var info = stat()
        guard lstat(target, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw .outputNotReplaceable(path: target, reason: "it exists and is not a folder")
        }
        let content = (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []
        guard content.isEmpty || content.contains(marker) else {
            throw .outputNotReplaceable(path: target, reason: "it is a non-empty folder without \(marker), not an earlier mwad merge")
        }
    }

    /// Creates the output's missing parent folders (0755), as `mkdir -p` would.
    static func makeParent(_ parent: String) throws(PublishError) {
        guard !FileManager.default.fileExists(atPath: parent) else { return }
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
        } catch {
            throw .io(path: parent, operation: "creating the output's parent folder", reason: RunDirectory.reason(error))
        }
    }

    private static func makeStaging(parent: String, name: String) throws(PublishError) -> String {
        // 0755: the output is shared like any model folder.
        switch Posix.makeTemporaryDirectory(prefix: "\(parent)/.\(name).mwad-staging-", mode: 0o755) {
        case .success(let path): return path
        case .failure(let error): throw .io(path: parent, operation: "creating a staging folder", reason: error.description)
        }
    }

    private static func swap(_ staging: String, into target: String) throws(PublishError) {
        if mwad_rename_noreplace(staging, target) == 0 { return }
        guard errno == EEXIST || errno == ENOTEMPTY else {
            throw .io(path: target, operation: "renaming the staging folder into place", reason: Posix.errnoText())
        }
        if mwad_rename_exchange(staging, target) == 0 { return }
        guard errno == EINVAL || errno == ENOSYS || errno == ENOTSUP else {
            throw .io(path: target, operation: "exchanging the output folder", reason: Posix.errnoText())
        }
        try setAsideAndRename(staging, into: target)
    }

    /// The fallback for file systems without RENAME_EXCHANGE: old aside, new in. The
    /// old content is then moved to `staging`'s path, to be removed like after a swap.
    private static func setAsideAndRename(_ staging: String, into target: String) throws(PublishError) {
        let (parent, name) = split(target)
        let aside = "\(parent)/.\(name).mwad-old-\(getpid())"
        guard rename(target, aside) == 0 else {
            throw .io(path: target, operation: "moving the old output aside", reason: Posix.errnoText())
        }
        guard rename(staging, target) == 0 else {
            let reason = Posix.errnoText()
            _ = rename(aside, target)
            throw .io(path: target, operation: "renaming the staging folder into place", reason: reason)
        }
        _ = rename(aside, staging)
    }

    static func split(_ path: String) -> (parent: String, name: String) {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL
        return (absolute.deletingLastPathComponent().path, absolute.lastPathComponent)
    }

    /// Removes a staging or old output folder. An old output a user made read-only
    /// could not be emptied; it is mwad's own folder, so it is made writable first.
    static func removeQuietly(_ path: String) {
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { chmod(path, 0o700) }
        try? FileManager.default.removeItem(atPath: path)
    }
}
