import Foundation
import Ingest

/// Publishes an existing adapter folder (a merge, a candidate, or a checkpoint) to
/// another place, atomically, with a manifest saying what it is: how the daemon hands
/// over the best adapter of each evaluated window.
public enum FolderPublisher {
    /// Replaces `target` with the files of `form` in `source` (the adapter, its config
    /// where the layout has one), its merge manifest when it has one, and `manifest` as
    /// `manifestName` (which also marks `target` as mwad's, safe to replace next time).
    public static func publish(_ source: String, to target: String, form: OutputForm, manifest: Data, manifestName: String) throws(PublishError) {
        try AtomicDirectory.replace(target, marker: manifestName) { staging throws(PublishError) in
            for name in form.files + [AtomicDirectory.marker] where FileManager.default.fileExists(atPath: "\(source)/\(name)") {
                let data: Data
                do { data = try Data(contentsOf: URL(fileURLWithPath: "\(source)/\(name)")) } catch {
                    throw .io(path: "\(source)/\(name)", operation: "reading", reason: RunDirectory.reason(error))
                }
                try Durable.write(data, to: "\(staging)/\(name)")
            }
            try Durable.write(manifest, to: "\(staging)/\(manifestName)")
        }
    }
}
