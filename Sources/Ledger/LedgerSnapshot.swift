import Foundation
import GRDB

/// A consistent view of a ledger at one instant: what `mwad status` shows and what one
/// pass of the daemon decides from.
public struct LedgerSnapshot: Sendable {
    public var run: RunRecord?
    public var daemon: DaemonRecord?
    /// Every checkpoint row, in step order.
    public var checkpoints: [CheckpointRecord]
    /// The newest merge.
    public var merge: MergeRecord?
    /// Its members, in order.
    public var members: [MergeMemberRecord]
    /// Folders passed over, by name.
    public var skipped: [SkippedRecord]
    /// Every evaluation, oldest first.
    public var evaluations: [EvaluationRecord]
    /// The adapter last published as the best.
    public var best: BestRecord?
    /// What the serving engine serves, where `serve.url` is set.
    public var serving: ServingRecord?
    /// Every checkpoint that was a member of any merge, for status's counts. Read only
    /// by ``LedgerReader`` (status): the daemon's snapshot at each pass leaves it empty,
    /// so that its cost does not grow with the run's merge history.
    public var everMerged: Set<Int64>

    public init(run: RunRecord?, daemon: DaemonRecord?, checkpoints: [CheckpointRecord], merge: MergeRecord?,
                members: [MergeMemberRecord], skipped: [SkippedRecord] = [], evaluations: [EvaluationRecord] = [],
                best: BestRecord? = nil, everMerged: Set<Int64> = [], serving: ServingRecord? = nil) {
        self.run = run
        self.daemon = daemon
        self.checkpoints = checkpoints
        self.merge = merge
        self.members = members
        self.skipped = skipped
        self.evaluations = evaluations
        self.best = best
        self.everMerged = everMerged
        self.serving = serving
    }

    /// Reads everything in `db`'s current transaction. Works on a ledger of any
    /// earlier schema (status reads ledgers an older daemon still holds). With
    /// `mergeHistory`, also ``everMerged``.
    static func fetch(_ db: Database, mergeHistory: Bool = false) throws -> LedgerSnapshot {
        let merge = try MergeRecord.order(MergeRecord.Columns.id.desc).fetchOne(db)
        let members = try merge.map {
            try MergeMemberRecord.filter(MergeMemberRecord.Columns.mergeID == $0.id).order(MergeMemberRecord.Columns.position).fetchAll(db)
        } ?? []
        let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        return LedgerSnapshot(
            run: try RunRecord.fetchOne(db),
            daemon: applied.contains("v2-daemon-heartbeat") ? try DaemonRecord.fetchOne(db) : nil,
            checkpoints: try CheckpointRecord.order(CheckpointRecord.Columns.step, CheckpointRecord.Columns.id).fetchAll(db),
            merge: merge,
            members: members,
            skipped: applied.contains("v4-skipped-folders") ? try SkippedRecord.order(Column("name")).fetchAll(db) : [],
            evaluations: applied.contains("v6-evaluations") ? try EvaluationRecord.order(EvaluationRecord.Columns.id).fetchAll(db) : [],
            best: applied.contains("v6-evaluations") ? try BestRecord.fetchOne(db) : nil,
            everMerged: mergeHistory ? Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT checkpoint_id FROM merge_member")) : [],
            serving: applied.contains("v13-serving") ? try ServingRecord.fetchOne(db) : nil)
    }

    /// The checkpoint row with `id`.
    public func checkpoint(id: Int64) -> CheckpointRecord? {
        checkpoints.first { $0.id == id }
    }

    /// The row that stands for each step now (the newest not `replaced`).
    public var current: [Int64: CheckpointRecord] {
        Dictionary(checkpoints.filter { $0.status != .replaced }.map { ($0.step, $0) }) { a, b in a.id! > b.id! ? a : b }
    }

    /// Ingested checkpoints, in step order: the candidates for the window.
    public var ingested: [CheckpointRecord] { checkpoints.filter { $0.status == .ingested } }

    /// The published merge's members' checkpoint ids, in order.
    public var memberIDs: [Int64] { members.map(\.checkpointID) }
}
