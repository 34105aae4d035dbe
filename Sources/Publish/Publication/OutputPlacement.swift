import Foundation
import Ingest

/// Where a merge of a run may be published: the rules every target shares, then the
/// target's own (``PublicationTarget/placementProblem(_:run:)``).
public enum OutputPlacement {
    /// Why `output` cannot hold the merges of the run at `run` published by `target`
    /// (nil: not known yet, `auto` with no checkpoint to show the layout); nil when it
    /// can. Never inside a checkpoint folder of any layout (the trainer's rotation
    /// deletes it). `<run>/mwa-merged`, the default, can.
    public static func problem(_ output: String, run: String?, target: (any PublicationTarget)?) -> String? {
        let path = RunDirectory.absolute(output)
        if let target {
            if let problem = target.placementProblem(path, run: run.map(RunDirectory.absolute)) { return problem }
        } else if let run, path == RunDirectory.absolute(run) {
            // Most targets replace the output whole; one file published beside the
            // trainer's is the flat layout's.
            return "is the run directory itself, and publishing replaces the output folder whole: use e.g. \(run)/mwa-merged"
                + " (or, for kohya or ai-toolkit files, set the layout flat, which publishes one file beside them)"
        }
        // A checkpoint folder as any layout of the catalog names one (checkpoint-80,
        // epoch_3, a registered layout's).
        let folders = path.split(separator: "/").dropLast().map(String.init)
        let parent = { (name: String) in "/" + folders.prefix { $0 != name }.joined(separator: "/") }
        if let folder = folders.first(where: { name in
            if case .checkpoint = LayoutCatalog.classify(name, in: run.map(RunDirectory.absolute) ?? parent(name)) { true } else { false }
        }) {
            return "is inside the checkpoint folder \(folder), which the trainer's rotation (save_total_limit) deletes: put the merge beside the checkpoints, e.g. <run>/mwa-merged"
        }
        return nil
    }
}
