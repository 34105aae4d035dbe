import Foundation
import Ingest
import Publish
import Settings
import Weigh

/// A candidate: the same window merged with other settings, into a scratch folder.
enum CandidateMerge {
    /// Merges the candidate into `folder`; returns its settings as resolved by the merge
    /// (svd's rank 0 as the rank it took), which is what its evaluation is labelled by.
    @discardableResult
    static func make(_ settings: MergeSettings, from job: EvalJob, to folder: String) throws -> MergeSettings {
        let chosen = settings.window.select(job.members.map(\.step)).map { job.members[$0] }
        let members = try chosen.map { member in
            try Checkpoint.load(CheckpointRef(step: member.step, path: member.folder, origin: member.source), layout: job.layout)
        }
        let plan = try MergePlan(checkpoints: members, settings: settings)
        // A scratch folder, whatever the target publishes: the worker reads it as such.
        let manifest = try FolderPublication(layout: job.layout).publish(plan, to: folder)
        return settings.effective.resolved(by: manifest.report)
    }
}
