import Foundation
import GRDB

/// The ledger's schema, as a sequence of migrations. A released migration is never
/// edited: every change is a new one appended here (tests upgrade a ledger made by
/// each earlier prefix of this list).
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-checkpoints-and-merges", migrate: v1)
        migrator.registerMigration("v2-daemon-heartbeat", migrate: v2)
        migrator.registerMigration("v3-vanished-and-hooks", migrate: v3)
        migrator.registerMigration("v4-skipped-folders", migrate: v4)
        migrator.registerMigration("v5-missed-and-whole-settings", migrate: v5)
        migrator.registerMigration("v6-evaluations", migrate: v6)
        migrator.registerMigration("v7-method-reports", migrate: v7)
        migrator.registerMigration("v8-daemon-problem", migrate: v8)
        migrator.registerMigration("v9-daemon-layout", migrate: v9)
        migrator.registerMigration("v10-run-evaluation-stop-reason", migrate: v10)
        migrator.registerMigration("v11-evaluation-name", migrate: v11)
        migrator.registerMigration("v12-daemon-publication", migrate: v12)
        migrator.registerMigration("v13-serving", migrate: v13)
        return migrator
    }

    /// The identifiers of every migration, in order.
    static var identifiers: [String] { migrator.migrations }

    private static func v1(_ db: Database) throws {
        try db.create(table: "run") { t in
            t.column("id", .integer).primaryKey().check { $0 == 1 }.defaults(to: 1)  // one run per ledger
            t.column("watch_path", .text).notNull()
            t.column("output_path", .text).notNull()
            t.column("window", .integer).notNull()
            t.column("weighting", .text).notNull()
            t.column("penalty", .double).notNull()
            t.column("metric", .text).notNull()
            t.column("smoothing", .integer).notNull()
            t.column("first_seen", .datetime).notNull()
            t.column("updated_at", .datetime).notNull()
        }
        try db.create(table: "checkpoint") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("step", .integer).notNull().indexed()
            t.column("source_path", .text).notNull()
            t.column("retained_path", .text)
            t.column("adapter_size", .integer)
            t.column("adapter_sha256", .text)
            t.column("train_loss", .double)
            t.column("eval_loss", .double)
            t.column("status", .text).notNull()
                .check(sql: "status IN ('ingested', 'rejected', 'evicted', 'replaced')")
            t.column("reason", .text)
            t.column("discovered_at", .datetime).notNull()
            t.column("ingested_at", .datetime)
        }
        try db.create(table: "merge") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("created_at", .datetime).notNull()
            t.column("weighting", .text).notNull()
            t.column("penalty", .double).notNull()
            t.column("metric", .text).notNull()
            t.column("window", .integer).notNull()
            t.column("output_path", .text).notNull()
            t.column("output_sha256", .text).notNull()
            t.column("duration_seconds", .double).notNull()
        }
        try db.create(table: "merge_member") { t in
            t.column("merge_id", .integer).notNull().references("merge", onDelete: .cascade)
            t.column("checkpoint_id", .integer).notNull().references("checkpoint").indexed()
            t.column("position", .integer).notNull()
            t.column("weight", .double).notNull()
            t.column("metric_value", .double)
            t.primaryKey(["merge_id", "checkpoint_id"])
        }
    }

    private static func v2(_ db: Database) throws {
        try db.create(table: "daemon") { t in
            t.column("id", .integer).primaryKey().check { $0 == 1 }.defaults(to: 1)
            t.column("pid", .integer).notNull()
            t.column("host", .text).notNull()
            t.column("version", .text).notNull()
            t.column("started_at", .datetime).notNull()
            t.column("heartbeat_at", .datetime).notNull()
            t.column("heartbeat_interval", .double).notNull()
            t.column("stopped_at", .datetime)
            t.column("last_error", .text)
            t.column("last_error_at", .datetime)
        }
    }

    /// When the trainer deleted a checkpoint's folder (rotation), and how each merge's
    /// `on_merge` hook ended.
    private static func v3(_ db: Database) throws {
        try db.alter(table: "checkpoint") { t in t.add(column: "vanished_at", .datetime) }
        try db.alter(table: "merge") { t in t.add(column: "hook_status", .text) }
    }

    /// Folders passed over, so that `mwad status` can say which and why.
    private static func v4(_ db: Database) throws {
        try db.create(table: "skipped_folder") { t in
            t.primaryKey("name", .text)
            t.column("reason", .text).notNull()
            t.column("seen_at", .datetime).notNull()
        }
    }

    /// Checkpoints seen but deleted before they could be read (`missed`), and the merge
    /// settings stored whole (JSON) with their fingerprint on every merge and the run.
    /// SQLite cannot change a CHECK constraint, so `checkpoint` is rebuilt (GRDB runs
    /// migrations with foreign keys deferred, as that procedure needs).
    private static func v5(_ db: Database) throws {
        try db.create(table: "checkpoint_v5") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("step", .integer).notNull()
            t.column("source_path", .text).notNull()
            t.column("retained_path", .text)
            t.column("adapter_size", .integer)
            t.column("adapter_sha256", .text)
            t.column("train_loss", .double)
            t.column("eval_loss", .double)
            t.column("status", .text).notNull()
                .check(sql: "status IN ('ingested', 'rejected', 'evicted', 'replaced', 'missed')")
            t.column("reason", .text)
            t.column("discovered_at", .datetime).notNull()
            t.column("ingested_at", .datetime)
            t.column("vanished_at", .datetime)
        }
        try db.execute(sql: "INSERT INTO checkpoint_v5 SELECT id, step, source_path, retained_path, adapter_size, adapter_sha256, train_loss, eval_loss, status, reason, discovered_at, ingested_at, vanished_at FROM checkpoint")
        try db.drop(table: "checkpoint")
        try db.rename(table: "checkpoint_v5", to: "checkpoint")
        try db.create(index: "checkpoint_on_step", on: "checkpoint", columns: ["step"])

        try db.alter(table: "merge") { t in
            t.add(column: "settings", .text)
            t.add(column: "fingerprint", .text)
        }
        try db.alter(table: "run") { t in t.add(column: "settings", .text) }
        // Rows made before v5 get their settings from the old columns; merges never
        // recorded smoothing, so the run's (the best that is known) is taken.
        let smoothing = try Int.fetchOne(db, sql: "SELECT smoothing FROM run") ?? 1
        for row in try Row.fetchAll(db, sql: "SELECT * FROM merge") {
            let settings = FrozenV5.Settings(row, smoothing: smoothing)
            try db.execute(sql: "UPDATE merge SET settings = ?, fingerprint = ? WHERE id = ?",
                           arguments: [settings.json, settings.fingerprint, row["id"] as Int64])
        }
        if let row = try Row.fetchOne(db, sql: "SELECT * FROM run") {
            try db.execute(sql: "UPDATE run SET settings = ?", arguments: [FrozenV5.Settings(row).json])
        }
    }

    /// What the user's evaluator said of each window: the merge, its newest checkpoint
    /// and the candidates; and which adapter was published as the best.
    private static func v6(_ db: Database) throws {
        try db.create(table: "evaluation") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("merge_id", .integer).notNull().references("merge", onDelete: .cascade).indexed()
            t.column("target", .text).notNull().check(sql: "target IN ('merge', 'checkpoint', 'candidate')")
            t.column("step", .integer).notNull()
            t.column("settings", .text)
            t.column("metric", .text).notNull()
            t.column("goal", .text).notNull().check(sql: "goal IN ('minimize', 'maximize')")
            t.column("value", .double)
            t.column("status", .text).notNull().check(sql: "status IN ('ok', 'failed')")
            t.column("error", .text)
            t.column("exit_status", .integer)
            t.column("started_at", .datetime).notNull()
            t.column("duration_seconds", .double).notNull()
            t.column("best", .boolean).notNull().defaults(to: false)
        }
        try db.create(table: "best") { t in
            t.column("id", .integer).primaryKey().check { $0 == 1 }.defaults(to: 1)
            t.column("evaluation_id", .integer).notNull().references("evaluation")
            t.column("output_path", .text).notNull()
            t.column("published_at", .datetime).notNull()
        }
    }

    /// What a merge method made (ranks, truncation error), and the step a member's
    /// metric was logged at where it is earlier than the member's own.
    private static func v7(_ db: Database) throws {
        try db.alter(table: "merge") { t in t.add(column: "report", .text) }
        try db.alter(table: "merge_member") { t in t.add(column: "metric_step", .integer) }
    }

    /// A failure that persists right now (an unreadable run directory or checkpoint),
    /// cleared when it is gone; `last_error` stays as history.
    private static func v8(_ db: Database) throws {
        try db.alter(table: "daemon") { t in
            t.add(column: "problem", .text)
            t.add(column: "problem_since", .datetime)
        }
    }

    /// The trainer layout the daemon reads the run in, and how it was chosen.
    private static func v9(_ db: Database) throws {
        try db.alter(table: "daemon") { t in t.add(column: "layout", .text) }
    }

    /// How the last run evaluated (`off`, or the evaluator and its best folder), so
    /// that a daemon started without evaluation says it was switched off; and why the
    /// daemon stopped, where that is not a signal (the trainer it followed exited).
    private static func v10(_ db: Database) throws {
        try db.alter(table: "run") { t in t.add(column: "evaluation", .text) }
        try db.alter(table: "daemon") { t in t.add(column: "stop_reason", .text) }
    }

    private static func v11(_ db: Database) throws {
        try db.alter(table: "evaluation") { t in t.add(column: "name", .text) }
    }

    /// How the daemon publishes its merges (`folder (publish: auto)`), for status,
    /// `mwad export` and `mwad eval`.
    private static func v12(_ db: Database) throws {
        try db.alter(table: "daemon") { t in t.add(column: "publication", .text) }
    }

    /// What the serving engine (`serve.url`) serves: one row, the latest state.
    private static func v13(_ db: Database) throws {
        try db.create(table: "serving") { t in
            t.column("id", .integer).primaryKey().check { $0 == 1 }.defaults(to: 1)
            t.column("url", .text).notNull()
            t.column("name", .text).notNull()
            t.column("version", .text)
            t.column("step", .integer)
            t.column("rank", .integer)
            t.column("truncation_error", .double)
            t.column("loaded_at", .datetime)
            t.column("last_failure", .text)
            t.column("last_failure_at", .datetime)
        }
    }
}
