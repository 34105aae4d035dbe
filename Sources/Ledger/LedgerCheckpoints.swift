import Foundation
import GRDB

// MARK: - Checkpoints

/// What recording a checkpoint did.
public enum CheckpointOutcome: Sendable, Equatable {
    /// A new row.
    case recorded(CheckpointRecord)
    /// The same step with the same content was already there: nothing written.
    case unchanged(CheckpointRecord)
    /// The same step with other content: the old row is now `replaced`.
    case replaced(old: CheckpointRecord, new: CheckpointRecord)

    /// The row that now stands for the step.
    public var current: CheckpointRecord {
        switch self {
        case .recorded(let record), .unchanged(let record), .replaced(_, let record): record
        }
    }
}

extension Ledger {
    /// Records `checkpoint`, idempotently: the same step with the same adapter digest
    /// (or with none, where the earlier row has one) adds nothing; the same step with another digest marks the earlier row
    /// `replaced` and adds the new one. A row that stood for a checkpoint never read
    /// (`missed`, or `rejected` before its adapter could be read, or for the same
    /// adapter, e.g. while unreadable) is revived in place when it is now ingested.
    @discardableResult
    public func record(_ checkpoint: CheckpointRecord) throws(LedgerError) -> CheckpointOutcome {
        try write { db in
            var new = checkpoint
            let current = try CheckpointRecord
                .filter(CheckpointRecord.Columns.step == checkpoint.step && CheckpointRecord.Columns.status != CheckpointRecord.Status.replaced)
                .order(CheckpointRecord.Columns.id.desc)
                .fetchOne(db)
            guard var old = current else {
                try new.insert(db)
                return .recorded(new)
            }
            if Self.revives(old, with: checkpoint) {
                new.id = old.id
                try new.update(db)
                return .recorded(new)
            }
            // Only content replaces content: a row read from a folder that lost its
            // adapter (being deleted) cannot stand for a checkpoint read whole before.
            if old.adapterSHA256 == checkpoint.adapterSHA256 || checkpoint.status == .missed
                || (checkpoint.adapterSHA256 == nil && old.adapterSHA256 != nil) { return .unchanged(old) }
            old.status = .replaced
            try old.update(db)
            try new.insert(db)
            return .replaced(old: old, new: new)
        }
    }

    private static func revives(_ old: CheckpointRecord, with new: CheckpointRecord) -> Bool {
        switch old.status {
        case .missed: new.status != .missed
        case .rejected: new.status == .ingested && (old.adapterSHA256 == nil || old.adapterSHA256 == new.adapterSHA256)
        default: false
        }
    }

    /// Rewrites a checkpoint's row (it must have an id).
    public func update(_ checkpoint: CheckpointRecord) throws(LedgerError) {
        try write { db in try checkpoint.update(db) }
    }

    /// Records that a checkpoint's source folder is gone.
    public func markVanished(checkpointID: Int64, at date: Date = Date()) throws(LedgerError) {
        try write { db in
            try db.execute(sql: "UPDATE checkpoint SET vanished_at = ? WHERE id = ? AND vanished_at IS NULL",
                           arguments: [date, checkpointID])
        }
    }

    /// Marks every checkpoint with a step above `step` as `replaced` (ingested, evicted,
    /// rejected or missed alike): training resumed from `step`, or the trainer was run
    /// again into the directory, so they belong to an abandoned trajectory, whose
    /// losses and counts must not show beside the new run's. Returns them.
    public func supersede(after step: Int64) throws(LedgerError) -> [CheckpointRecord] {
        try write { db in
            let abandoned = try CheckpointRecord
                .filter(CheckpointRecord.Columns.step > step && CheckpointRecord.Columns.status != CheckpointRecord.Status.replaced)
                .order(CheckpointRecord.Columns.step)
                .fetchAll(db)
            for var row in abandoned {
                row.status = .replaced
                row.reason = "training resumed from step \(step)"
                try row.update(db)
            }
            return abandoned
        }
    }

    /// Checkpoints in step order, optionally only those with `status`.
    public func checkpoints(status: CheckpointRecord.Status? = nil) throws(LedgerError) -> [CheckpointRecord] {
        try read { db in
            var request = CheckpointRecord.order(CheckpointRecord.Columns.step, CheckpointRecord.Columns.id)
            if let status { request = request.filter(CheckpointRecord.Columns.status == status) }
            return try request.fetchAll(db)
        }
    }
}

