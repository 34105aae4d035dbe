import Foundation
import GRDB

// MARK: - Merges

/// A member of a merge to record.
public struct MergeMemberInput: Sendable {
    public var checkpointID: Int64
    public var weight: Double
    public var metricValue: Double?
    public var metricStep: Int64?

    public init(checkpointID: Int64, weight: Double, metricValue: Double?, metricStep: Int64? = nil) {
        self.checkpointID = checkpointID
        self.weight = weight
        self.metricValue = metricValue
        self.metricStep = metricStep
    }
}

extension Ledger {
    /// Records a published merge and its members in one transaction: a reader sees
    /// the merge with all its members or not at all.
    @discardableResult
    public func record(merge: MergeRecord, members: [MergeMemberInput]) throws(LedgerError) -> MergeRecord {
        try write { db in
            var merge = merge
            try merge.insert(db)
            for (position, member) in members.enumerated() {
                try MergeMemberRecord(mergeID: merge.id!, checkpointID: member.checkpointID, position: position,
                                      weight: member.weight, metricValue: member.metricValue, metricStep: member.metricStep).insert(db)
            }
            return merge
        }
    }

    /// Records how merge `id`'s hook ended.
    public func setHookStatus(_ status: String, mergeID: Int64) throws(LedgerError) {
        try write { db in try db.execute(sql: "UPDATE merge SET hook_status = ? WHERE id = ?", arguments: [status, mergeID]) }
    }

    /// Every merge, oldest first, each with its members in order: the windows `mwad
    /// eval` can score after the run.
    public func mergeHistory() throws(LedgerError) -> [(merge: MergeRecord, members: [MergeMemberRecord])] {
        try read { db in
            let members = Dictionary(grouping: try MergeMemberRecord.order(MergeMemberRecord.Columns.mergeID, MergeMemberRecord.Columns.position)
                .fetchAll(db), by: \.mergeID)
            return try MergeRecord.order(MergeRecord.Columns.id).fetchAll(db).map { ($0, members[$0.id!] ?? []) }
        }
    }

    /// The newest merge, if any.
    public func lastMerge() throws(LedgerError) -> MergeRecord? {
        try read { db in try MergeRecord.order(MergeRecord.Columns.id.desc).fetchOne(db) }
    }
}

