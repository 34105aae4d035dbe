import Foundation
import Ingest
import Ledger
import Merge
import Settings

extension Ledger {
    /// Records a merge published from `plan`: its members as ingested checkpoints
    /// (idempotently) and the merge with their weights. `digests` are the members'
    /// adapter SHA-256s, in plan order.
    @discardableResult
    public func recordPublished(_ plan: MergePlan, digests: [String], output: String, outputSHA256: String,
                                created: Date, duration: TimeInterval, report: MergeReport? = nil) throws(LedgerError) -> MergeRecord {
        var members: [MergeMemberInput] = []
        for (member, digest) in zip(plan.members, digests) {
            let id: Int64
            if let checkpoint = member.checkpoint {
                id = try record(CheckpointRecord(ingested: checkpoint, sha256: digest, smoothing: plan.settings.smoothing, now: created)).current.id!
            } else {
                id = member.recordID!  // a running average's member not read: its row is known
            }
            members.append(MergeMemberInput(checkpointID: id, weight: member.weight, metricValue: member.metricValue, metricStep: member.metricStep))
        }
        let merge = MergeRecord(createdAt: created, settings: plan.settings, outputPath: output,
                                outputSHA256: outputSHA256, durationSeconds: duration,
                                report: report == MergeReport() ? nil : report)
        return try record(merge: merge, members: members)
    }
}
