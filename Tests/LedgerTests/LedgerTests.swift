import Foundation
import GRDB
@testable import Ledger
import MWADTestKit
import Testing
import Settings
import Weigh

@Suite struct LedgerTests {
    let dir = TemporaryDirectory()
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func row(_ step: Int64, sha: String?, status: CheckpointRecord.Status = .ingested) -> CheckpointRecord {
        CheckpointRecord(step: step, sourcePath: "/run/checkpoint-\(step)", adapterSize: 100, adapterSHA256: sha,
                         trainLoss: 4 - Double(step) / 100, status: status, discoveredAt: t0, ingestedAt: t0)
    }

    @Test func createsTheSchemaInAnEmptyFile() throws {
        let ledger = try Ledger(path: dir.file("state/ledger.sqlite"))
        let (journal, foreignKeys, migrations, tables) = try ledger.writer.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
             try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"),
             try ["run", "checkpoint", "merge", "merge_member", "daemon"].filter { try db.tableExists($0) })
        }
        #expect(journal == "wal")
        #expect(foreignKeys == 1)
        #expect(migrations == Schema.identifiers)
        #expect(tables.count == 5)
        let synchronous = try ledger.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(synchronous == 2)  // FULL
    }

    @Test func reopeningKeepsEverything() throws {
        let path = dir.file("ledger.sqlite")
        do {
            let ledger = try Ledger(path: path)
            try ledger.registerRun(watch: "/run", output: "/out", settings: MergeSettings(), now: t0)
            try ledger.record(row(10, sha: "a"))
        }
        let again = try Ledger(path: path)
        #expect(try again.checkpoints().map(\.step) == [10])
        #expect(try again.run()?.watchPath == "/run")
    }

    /// A ledger made by each earlier set of migrations, with rows in it, is upgraded
    /// in place and keeps its rows.
    @Test(arguments: 1..<Schema.identifiers.count)
    func upgradesAnOlderSchema(_ applied: Int) throws {
        let path = dir.file("old-\(applied).sqlite")
        let old = try DatabasePool(path: path)
        try Schema.migrator.migrate(old, upTo: Schema.identifiers[applied - 1])
        try old.write { db in
            try db.execute(sql: """
                INSERT INTO checkpoint (step, source_path, adapter_sha256, train_loss, status, discovered_at)
                VALUES (10, '/run/checkpoint-10', 'abc', 3.5, 'ingested', '2027-01-15 08:00:00.000')
                """)
        }
        try old.close()
        let ledger = try Ledger(path: path)
        let rows = try ledger.checkpoints()
        #expect(rows.map(\.step) == [10])
        #expect(rows.first?.trainLoss == 3.5)
        let migrations = try ledger.writer.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(migrations == Schema.identifiers)
        #expect(try ledger.daemon() == nil)
    }

    @Test func ingestingTheSameCheckpointTwiceAddsNothing() throws {
        let ledger = try Ledger.inMemory()
        guard case .recorded(let first) = try ledger.record(row(10, sha: "aaa")) else { Issue.record("not recorded"); return }
        #expect(try ledger.record(row(10, sha: "aaa")) == .unchanged(first))
        #expect(try ledger.checkpoints().count == 1)
    }

    @Test func sameStepOtherContentReplacesTheOldRow() throws {
        let ledger = try Ledger.inMemory()
        try ledger.record(row(10, sha: "aaa"))
        try ledger.record(row(20, sha: "bbb"))
        // Training resumed from checkpoint-10 and saved step 20 again, differently.
        guard case .replaced(let old, let new) = try ledger.record(row(20, sha: "ccc")) else {
            Issue.record("not replaced"); return
        }
        #expect(old.adapterSHA256 == "bbb" && old.status == .replaced)
        #expect(new.adapterSHA256 == "ccc" && new.status == .ingested)
        let rows = try ledger.checkpoints()
        #expect(rows.map(\.status) == [.ingested, .replaced, .ingested])
        #expect(try ledger.checkpoints(status: .ingested).map(\.adapterSHA256) == ["aaa", "ccc"])
        // And again the same new content: nothing changes.
        #expect(try ledger.record(row(20, sha: "ccc")) == .unchanged(new))
    }

    @Test func aMergeIsRecordedWithAllItsMembersOrNotAtAll() throws {
        let ledger = try Ledger.inMemory()
        let a = try ledger.record(row(10, sha: "a")).current.id!
        let merge = MergeRecord(createdAt: t0, settings: MergeSettings(window: 2).effective, outputPath: "/out", outputSHA256: "f", durationSeconds: 0.5)
        // A member pointing at no checkpoint violates the foreign key: nothing is kept.
        #expect(throws: LedgerError.self) {
            try ledger.record(merge: merge, members: [MergeMemberInput(checkpointID: a, weight: 0.5, metricValue: 3.9),
                                                      MergeMemberInput(checkpointID: 999, weight: 0.5, metricValue: 3.8)])
        }
        #expect(try ledger.lastMerge() == nil)
        let recorded = try ledger.record(merge: merge, members: [MergeMemberInput(checkpointID: a, weight: 1, metricValue: 3.9)])
        #expect(try ledger.lastMerge() == recorded)
    }

    @Test func refusesTheLedgerOfAnotherRun() throws {
        let ledger = try Ledger(path: dir.file("ledger.sqlite"))
        try ledger.registerRun(watch: "/runs/a", output: "/out", settings: MergeSettings())
        #expect(throws: LedgerError.otherRun(path: dir.file("ledger.sqlite"), recorded: "/runs/a", requested: "/runs/b")) {
            try ledger.registerRun(watch: "/runs/b", output: "/out", settings: MergeSettings())
        }
        // The same run with new settings updates them and keeps the first-seen time.
        let first = try ledger.run()!.firstSeen
        try ledger.registerRun(watch: "/runs/a", output: "/out2", settings: MergeSettings(window: 9), now: t0.addingTimeInterval(1e6))
        #expect(try ledger.run()?.settings.window.count == 9)
        #expect(try ledger.run()?.firstSeen == first)
    }

    @Test func heartbeatAndShutdown() throws {
        let ledger = try Ledger.inMemory()
        try ledger.daemonStarted(DaemonRecord(pid: 42, host: "gpu01", version: "0.1.0", startedAt: t0, heartbeatAt: t0,
                                              heartbeatInterval: 10))
        try ledger.heartbeat(at: t0.addingTimeInterval(10))
        try ledger.recordError("disk full", at: t0.addingTimeInterval(11))
        try ledger.daemonStopped(at: t0.addingTimeInterval(12))
        let daemon = try #require(try ledger.daemon())
        #expect(daemon.heartbeatAt == t0.addingTimeInterval(12))
        #expect(daemon.stoppedAt == t0.addingTimeInterval(12))
        #expect(daemon.lastError == "disk full")
    }

    @Test func skippedFoldersFollowTheRunDirectory() throws {
        let ledger = try Ledger(path: dir.file("ledger.sqlite"))
        try ledger.setSkipped([("checkpoint-abc", "'abc' is not a step number"), ("checkpoint-7", "symbolic link, not followed")], now: t0)
        try ledger.setSkipped([("checkpoint-abc", "'abc' is not a step number"), ("checkpoint-x", "'x' is not a step number")],
                              now: t0.addingTimeInterval(5))
        #expect(try ledger.skipped() == [
            SkippedRecord(name: "checkpoint-abc", reason: "'abc' is not a step number", seenAt: t0),
            SkippedRecord(name: "checkpoint-x", reason: "'x' is not a step number", seenAt: t0.addingTimeInterval(5)),
        ])
        #expect(try LedgerReader(path: dir.file("ledger.sqlite")).snapshot().skipped.map(\.name) == ["checkpoint-abc", "checkpoint-x"])
        try ledger.setSkipped([])
        #expect(try ledger.skipped().isEmpty)
    }

    @Test func refusesAFileThatIsNotSQLite() throws {
        let path = dir.write("notes.sqlite", "just text, certainly not a database, long enough to have a header")
        #expect(throws: LedgerError.notALedger(path: path, reason: "not an SQLite database")) { try Ledger(path: path) }
        #expect(throws: LedgerError.notALedger(path: path, reason: "not an SQLite database")) { try LedgerReader(path: path) }
    }

    @Test func refusesSomeoneElsesDatabase() throws {
        let path = dir.file("app.sqlite")
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "CREATE TABLE users (id INTEGER)") }
        let expected = LedgerError.notALedger(path: path, reason: "an SQLite database with other tables: users")
        #expect(throws: expected) { try Ledger(path: path) }
        #expect(throws: expected) { try LedgerReader(path: path) }
        // And left it as it was.
        let touched = try DatabaseQueue(path: path).read { db in try db.tableExists("checkpoint") }
        #expect(!touched)
    }

    @Test func refusesALedgerFromANewerMWAD() throws {
        let path = dir.file("ledger.sqlite")
        _ = try Ledger(path: path)
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        #expect(throws: LedgerError.newerSchema(path: path, migration: "v99-from-the-future")) { try Ledger(path: path) }
        #expect(throws: LedgerError.newerSchema(path: path, migration: "v99-from-the-future")) { try LedgerReader(path: path) }
    }

    @Test func missingLedgerForStatus() {
        #expect(throws: LedgerError.missing(path: dir.file("none.sqlite"))) { try LedgerReader(path: dir.file("none.sqlite")) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("none.sqlite")))
    }
}

/// `mwad status` on a ledger an older mwad wrote and nothing has upgraded yet.
@Suite struct OlderLedgerReadTests {
    @Test(arguments: 1..<Schema.identifiers.count)
    func statusReadsALedgerOfAnEarlierSchema(_ applied: Int) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("old.sqlite")
        let old = try DatabasePool(path: path)
        try Schema.migrator.migrate(old, upTo: Schema.identifiers[applied - 1])
        try old.write { db in
            try db.execute(sql: """
                INSERT INTO checkpoint (step, source_path, adapter_sha256, train_loss, status, discovered_at)
                VALUES (10, '/run/checkpoint-10', 'abc', 3.5, 'ingested', '2027-01-15 08:00:00.000');
                INSERT INTO merge (created_at, weighting, penalty, metric, window, output_path, output_sha256, duration_seconds)
                VALUES ('2027-01-15 08:00:01.000', 'loss', 1, 'train_loss', 5, '/out', 'f', 0.1);
                INSERT INTO merge_member (merge_id, checkpoint_id, position, weight, metric_value) VALUES (1, 1, 0, 1, 3.5);
                """)
        }
        try old.close()
        let snapshot = try LedgerReader(path: path).snapshot()
        #expect(snapshot.checkpoints.map(\.step) == [10])
        #expect(snapshot.checkpoints.first?.vanishedAt == nil)
        #expect(snapshot.merge?.hookStatus == nil)
        #expect(snapshot.members.count == 1)
        #expect(snapshot.skipped.isEmpty)
    }
}
