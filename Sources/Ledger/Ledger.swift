import Foundation
import GRDB
import HostFileSystem
import Weigh

/// The daemon's memory: every checkpoint seen and what was decided about it, every
/// merge published, and the daemon's heartbeat, in one SQLite file.
///
/// The file is in WAL mode, so `mwad status` reads a consistent snapshot while the
/// daemon writes, and never blocks it. Durability: `synchronous=FULL`, so a commit
/// that returned survives a power cut; writes are a few rows per checkpoint, so the
/// extra fsync costs nothing that matters. Foreign keys are on; a busy timeout
/// covers another writer (such as `mwad merge --ledger` on the same file).
public final class Ledger: Sendable {
    public let path: String
    let pool: DatabasePool

    /// How long a write waits for another writer before failing.
    public static let busyTimeout: TimeInterval = 10

    /// Opens (creating if needed) the ledger at `path` and brings its schema up to date.
    /// Refuses a path on a network file system. `busyTimeout` is how long a write
    /// waits for another writer (0: fail at once with SQLITE_BUSY).
    public init(path: String, busyTimeout: TimeInterval = Ledger.busyTimeout) throws(LedgerError) {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        let kind = FileSystemKind.of(folder.isEmpty ? "." : folder)
        guard kind.isLocal else { throw .networkFileSystem(path: path, kind: kind.description) }
        if !folder.isEmpty {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var config = Configuration()
        config.busyMode = busyTimeout > 0 ? .timeout(busyTimeout) : .immediateError
        config.foreignKeysEnabled = true
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // After the pool's own WAL set-up, which chooses NORMAL; the pool keeps this
            // one writer connection for its lifetime, so setting it once holds.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try pool.read { db in try SchemaCheck.verify(db, path: path, allowEmpty: true) }
            try Schema.migrator.migrate(pool)
        } catch {
            throw LedgerError(error, path: path)
        }
    }

    /// Runs `body` in a write transaction, mapping failures to ``LedgerError``.
    func write<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
        do { return try pool.write(body) } catch { throw LedgerError(error, path: path) }
    }

    /// Runs `body` in a read transaction (a snapshot).
    func read<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
        do { return try pool.read(body) } catch { throw LedgerError(error, path: path) }
    }
}

// MARK: - The run

extension Ledger {
    /// Records (or updates) the run this ledger belongs to. A ledger made for another
    /// watched directory is refused: mixing two runs' checkpoints would merge nonsense.
    @discardableResult
    public func registerRun(watch: String, output: String, settings: MergeSettings, now: Date = Date()) throws(LedgerError) -> RunRecord {
        try write { db in
            var run = RunRecord(watchPath: watch, outputPath: output, settings: settings, firstSeen: now, updatedAt: now)
            if let existing = try RunRecord.fetchOne(db) {
                guard existing.watchPath == watch else {
                    throw LedgerError.otherRun(path: self.path, recorded: existing.watchPath, requested: watch)
                }
                run.firstSeen = existing.firstSeen
            }
            try run.upsert(db)
            return run
        }
    }

    public func run() throws(LedgerError) -> RunRecord? {
        try read { db in try RunRecord.fetchOne(db) }
    }
}

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
    /// adds nothing; the same step with another digest marks the earlier row
    /// `replaced` and adds the new one.
    @discardableResult
    public func record(_ checkpoint: CheckpointRecord) throws(LedgerError) -> CheckpointOutcome {
        try write { db in
            var new = checkpoint
            let current = try CheckpointRecord
                .filter(CheckpointRecord.Columns.step == checkpoint.step && CheckpointRecord.Columns.status != CheckpointRecord.Status.replaced)
                .order(Column("id").desc)
                .fetchOne(db)
            guard var old = current else {
                try new.insert(db)
                return .recorded(new)
            }
            if old.adapterSHA256 == checkpoint.adapterSHA256 { return .unchanged(old) }
            old.status = .replaced
            try old.update(db)
            try new.insert(db)
            return .replaced(old: old, new: new)
        }
    }

    /// Changes a checkpoint's status (and reason).
    public func setStatus(_ status: CheckpointRecord.Status, reason: String? = nil, checkpointID: Int64) throws(LedgerError) {
        try write { db in
            try db.execute(sql: "UPDATE checkpoint SET status = ?, reason = ? WHERE id = ?",
                           arguments: [status, reason, checkpointID])
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

    /// Marks every ingested checkpoint with a step above `step` as `replaced`: training
    /// resumed from `step`, so they belong to an abandoned trajectory. Returns them.
    public func supersede(after step: Int64) throws(LedgerError) -> [CheckpointRecord] {
        try write { db in
            let abandoned = try CheckpointRecord
                .filter(CheckpointRecord.Columns.step > step && CheckpointRecord.Columns.status == CheckpointRecord.Status.ingested)
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
            var request = CheckpointRecord.order(CheckpointRecord.Columns.step, Column("id"))
            if let status { request = request.filter(CheckpointRecord.Columns.status == status) }
            return try request.fetchAll(db)
        }
    }
}

// MARK: - Merges

/// A member of a merge to record.
public struct MergeMemberInput: Sendable {
    public var checkpointID: Int64
    public var weight: Double
    public var metricValue: Double?

    public init(checkpointID: Int64, weight: Double, metricValue: Double?) {
        self.checkpointID = checkpointID
        self.weight = weight
        self.metricValue = metricValue
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
                                      weight: member.weight, metricValue: member.metricValue).insert(db)
            }
            return merge
        }
    }

    /// The members of merge `id`, in order.
    public func members(ofMerge id: Int64) throws(LedgerError) -> [MergeMemberRecord] {
        try read { db in try MergeMemberRecord.filter(Column("merge_id") == id).order(Column("position")).fetchAll(db) }
    }

    /// Records how merge `id`'s hook ended.
    public func setHookStatus(_ status: String, mergeID: Int64) throws(LedgerError) {
        try write { db in try db.execute(sql: "UPDATE merge SET hook_status = ? WHERE id = ?", arguments: [status, mergeID]) }
    }

    /// The newest merge, if any.
    public func lastMerge() throws(LedgerError) -> MergeRecord? {
        try read { db in try MergeRecord.order(Column("id").desc).fetchOne(db) }
    }
}

// MARK: - The daemon's heartbeat

extension Ledger {
    /// Records that a daemon started (replacing the previous daemon's row).
    public func daemonStarted(_ record: DaemonRecord) throws(LedgerError) {
        try write { db in try record.upsert(db) }
    }

    /// Updates the heartbeat time.
    public func heartbeat(at date: Date = Date()) throws(LedgerError) {
        try write { db in try db.execute(sql: "UPDATE daemon SET heartbeat_at = ?", arguments: [date]) }
    }

    /// Records a clean shutdown.
    public func daemonStopped(at date: Date = Date()) throws(LedgerError) {
        try write { db in try db.execute(sql: "UPDATE daemon SET stopped_at = ?, heartbeat_at = ?", arguments: [date, date]) }
    }

    /// Records the daemon's latest error, for `mwad status`.
    public func recordError(_ text: String, at date: Date = Date()) throws(LedgerError) {
        try write { db in
            try db.execute(sql: "UPDATE daemon SET last_error = ?, last_error_at = ?", arguments: [text, date])
        }
    }

    public func daemon() throws(LedgerError) -> DaemonRecord? {
        try read { db in try DaemonRecord.fetchOne(db) }
    }
}

// MARK: - Skipped folders

extension Ledger {
    /// Makes the recorded skipped folders exactly `entries` (name, reason): new ones
    /// are added with `now`, those no longer there are dropped, others keep their date.
    public func setSkipped(_ entries: [(name: String, reason: String)], now: Date = Date()) throws(LedgerError) {
        try write { db in
            let names = entries.map(\.name)
            try SkippedRecord.filter(!names.contains(Column("name"))).deleteAll(db)
            for entry in entries {
                try db.execute(sql: """
                    INSERT INTO skipped_folder (name, reason, seen_at) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET reason = excluded.reason
                    """, arguments: [entry.name, entry.reason, now])
            }
        }
    }

    /// The skipped folders, by name.
    public func skipped() throws(LedgerError) -> [SkippedRecord] {
        try read { db in try SkippedRecord.order(Column("name")).fetchAll(db) }
    }
}
