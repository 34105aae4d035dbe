import Foundation
import GRDB

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
    public func daemonStopped(at date: Date = Date(), reason: String? = nil) throws(LedgerError) {
        try write { db in
            try db.execute(sql: "UPDATE daemon SET stopped_at = ?, heartbeat_at = ?, stop_reason = ?", arguments: [date, date, reason])
        }
    }

    /// Records the daemon's latest error, for `mwad status`.
    public func recordError(_ text: String, at date: Date = Date()) throws(LedgerError) {
        try write { db in
            try db.execute(sql: "UPDATE daemon SET last_error = ?, last_error_at = ?", arguments: [text, date])
        }
    }

    /// Records the layout the run is read in, and how it was chosen.
    public func setLayout(_ text: String) throws(LedgerError) {
        try write { db in try db.execute(sql: "UPDATE daemon SET layout = ?", arguments: [text]) }
    }

    /// Records how the daemon publishes its merges, and how that was chosen.
    public func setPublication(_ text: String) throws(LedgerError) {
        try write { db in try db.execute(sql: "UPDATE daemon SET publication = ?", arguments: [text]) }
    }

    /// Sets (or, with nil, clears) the failure that persists now; `since` is kept while
    /// the text stays the same.
    public func setProblem(_ text: String?, at date: Date = Date()) throws(LedgerError) {
        try write { db in
            try db.execute(sql: """
                UPDATE daemon SET problem_since = CASE WHEN ? IS NULL THEN NULL
                                                       WHEN problem IS ? THEN problem_since ELSE ? END,
                                  problem = ?
                """, arguments: [text, text, date, text])
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
