import Foundation
import HostFileSystem
import Ingest
import SafeTensors

/// Replaces a single safetensors file so that its path shows, at every instant, either
/// the complete old file or the complete new one: the new file is written under a
/// hidden sibling name (`.NAME.mwad-staging-PID-N`, same folder, so same file system),
/// fsynced, and renamed over the old one (rename(2) is atomic), then the folder is
/// fsynced. Nothing else in the folder is touched: it may be a UI's LoRA folder or the
/// trainer's own output folder.
public enum AtomicFile {
    /// The metadata key whose presence marks a file as a merge mwad made, safe to replace
    /// (``Provenance/metadata(for:)`` writes it into every merge).
    public static let markerKey = "mwad_version"

    /// Writes the new content with `build` (given the staging path, which does not exist
    /// yet) and renames it over `target`. On any error the staging file is removed and
    /// `target` untouched. `target` must be absent or a safetensors file mwad made.
    public static func replace(_ target: String, build: (String) throws(PublishError) -> Void) throws(PublishError) {
        let (parent, name) = AtomicDirectory.split(target)
        try checkReplaceable(target)
        try AtomicDirectory.makeParent(parent)
        // A crash's leftovers of this same output (one publisher per output: the ledger lock).
        AtomicDirectory.removeLeftovers(of: target)
        let staging = "\(parent)/.\(name).mwad-staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do throws(PublishError) {
            try build(staging)
            try Durable.syncFile(staging)
            guard rename(staging, target) == 0 else {
                throw .io(path: target, operation: "renaming the staging file into place", reason: Posix.errnoText())
            }
            try Durable.syncDirectory(parent)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
    }

    /// `target` may be replaced if absent or a safetensors file whose metadata holds
    /// ``markerKey``: any other file (the trainer's final LoRA, a user's download) is kept.
    static func checkReplaceable(_ target: String) throws(PublishError) {
        var info = stat()
        guard lstat(target, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let what = (info.st_mode & S_IFMT) == S_IFDIR ? "a folder" : "not a regular file"
            throw .outputNotReplaceable(path: target, reason: "it exists and is \(what); a merge of this layout is one .safetensors file")
        }
        let header: SafeTensorsHeader
        do { header = try SafeTensorsHeader.read(path: target) } catch {
            throw .outputNotReplaceable(path: target, reason: "it is not a readable safetensors file (it \(error.rule.explanation)), so not an earlier mwad merge")
        }
        guard header.metadata?[markerKey] != nil else {
            throw .outputNotReplaceable(path: target, reason: "its metadata has no \(markerKey), so it is not an earlier mwad merge: choose another output name")
        }
    }
}
