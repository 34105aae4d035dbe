import Foundation
import Ingest
import Ledger
import Publish
import Settings
import Weigh

/// One window to evaluate, frozen: hard links of its members' retained copies and a
/// copy of the published merge, in `<state>/eval/merge-<id>/`. The daemon may publish
/// the next merge and evict checkpoints meanwhile; the job's files stay as they were.
public struct EvalJob: Sendable {
    public struct Member: Sendable {
        public var step: Int64
        /// The frozen copy.
        public var folder: String
        /// The trainer's folder it came from.
        public var source: String
    }

    public var mergeID: Int64
    public var settings: MergeSettings
    /// The run's layout: how its members are read.
    public var layout: any TrainerLayout
    /// How its merges (and the best adapter) are published.
    public var publication: any PublicationTarget
    public var folder: String
    /// The frozen published merge.
    public var merge: String
    /// The window, oldest first.
    public var members: [Member]

    public var newest: Member { members[members.count - 1] }

    /// Freezes merge `mergeID`, published at `output` by `publication` (which freezes it
    /// in a folder of its own), and its `members` (step, retained copy, trainer folder)
    /// under `root`.
    public static func freeze(mergeID: Int64, settings: MergeSettings, layout: any TrainerLayout,
                              publication: any PublicationTarget, output: String,
                              members: [(step: Int64, retained: String, source: String)], root: String) throws -> EvalJob {
        let folder = "\(root)/merge-\(mergeID)"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: "\(folder)/members", withIntermediateDirectories: true)
        var frozen: [Member] = []
        for member in members {
            // Under the trainer's own name: the layout reads the copy as it read the original.
            let copy = "\(folder)/members/\((member.source as NSString).lastPathComponent)"
            try LinkedCopy.make(member.retained, to: copy)
            frozen.append(Member(step: member.step, folder: copy, source: member.source))
        }
        try publication.freeze(publishedAt: output, into: "\(folder)/merge")
        return EvalJob(mergeID: mergeID, settings: settings, layout: layout, publication: publication, folder: folder,
                       merge: "\(folder)/merge", members: frozen)
    }

    /// The adapter file in a frozen folder: the published form's name (a merge, a
    /// candidate), else the layout's name for a retained copy (a member), where they differ.
    public func adapter(in folder: String) -> String {
        let published = "\(folder)/\(layout.output.adapterFile)"
        return FileManager.default.fileExists(atPath: published) ? published : layout.path(of: layout.adapterFile, in: folder)
    }

    /// Removes the frozen files.
    public func discard() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}
