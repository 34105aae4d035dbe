import Foundation
import GRDB
@testable import Ledger
import MWADTestKit
import Testing
import Settings
import Weigh

/// One daemon per ledger, one run per ledger, and rows for checkpoints never read.
@Suite struct OneWriterTests {
    let dir = TemporaryDirectory()
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aSecondWriterIsRefusedWithThePidOfTheFirst() throws {
        let path = dir.file("state/ledger.sqlite")
        do {
            let first = try LedgerLock(ledger: path)
            #expect(throws: LedgerError.locked(path: path, pid: getpid())) { _ = try LedgerLock(ledger: path) }
            withExtendedLifetime(first) {}
        }
        #expect(LedgerError.locked(path: path, pid: 42).description == "another mwad (pid 42) is using \(path)")
        // Released with its holder: the next writer gets it.
        _ = try LedgerLock(ledger: path)
    }

    @Test func aForeignLedgerIsRefusedBeforeAnythingIsWritten() throws {
        let path = dir.file("ledger.sqlite")
        do {
            let ledger = try Ledger(path: path, run: "/runs/b")
            try ledger.registerRun(watch: "/runs/b", output: "/out", settings: MergeSettings(), now: t0)
        }
        let before = try dump(path)
        #expect(throws: LedgerError.otherRun(path: path, recorded: "/runs/b", requested: "/runs/a")) {
            _ = try Ledger(path: path, run: "/runs/a")
        }
        #expect(try dump(path) == before)
        #expect(try LedgerReader(path: path).snapshot().run?.watchPath == "/runs/b")
    }

    /// Every row of every table, as text.
    func dump(_ path: String) throws -> [String] {
        var config = Configuration()
        config.readonly = true
        return try DatabaseQueue(path: path, configuration: config).read { db in
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            return try tables.flatMap { table in try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map { "\(table): \($0)" } }
        }
    }

    @Test func aMissedCheckpointIsRevivedWhenItIsReadAfterAll() throws {
        let ledger = try Ledger.inMemory()
        var missed = CheckpointRecord(step: 10, sourcePath: "/run/checkpoint-10", status: .missed,
                                      reason: "deleted within 40 ms of appearing", discoveredAt: t0)
        missed.vanishedAt = t0
        let id = try ledger.record(missed).current.id
        #expect(try ledger.record(missed) == .unchanged(try ledger.checkpoints()[0]))
        let ingested = CheckpointRecord(step: 10, sourcePath: "/run/checkpoint-10", adapterSHA256: "aa", status: .ingested,
                                        discoveredAt: t0, ingestedAt: t0)
        #expect(try ledger.record(ingested).current.id == id)
        let rows = try ledger.checkpoints()
        #expect(rows.map(\.status) == [.ingested] && rows[0].id == id)
    }

    /// The settings are one value: stored whole, read back whole, one fingerprint.
    @Test func mergeRowsKeepEverySetting() throws {
        let ledger = try Ledger.inMemory()
        let id = try ledger.record(CheckpointRecord(step: 10, sourcePath: "/r/checkpoint-10", adapterSHA256: "a", status: .ingested,
                                                    discoveredAt: t0)).current.id!
        let settings = MergeSettings(window: 3, weighting: "loss", penalty: 2, metric: .evalLoss, smoothing: 4)
        try ledger.record(merge: MergeRecord(createdAt: t0, settings: settings, outputPath: "/o", outputSHA256: "f", durationSeconds: 1),
                          members: [MergeMemberInput(checkpointID: id, weight: 1, metricValue: 3)])
        let merge = try #require(try ledger.lastMerge())
        #expect(merge.settings == settings)
        #expect(merge.fingerprint == settings.fingerprint)
        let stored = try ledger.writer.read { db in try String.fetchOne(db, sql: "SELECT fingerprint FROM merge") }
        #expect(stored == settings.fingerprint)
    }

    /// A v4 ledger's merges get their settings from the old columns, and the run's smoothing.
    @Test func upgradingToV5KeepsTheMergesSettings() throws {
        let path = dir.file("v4.sqlite")
        let old = try DatabasePool(path: path)
        try Schema.migrator.migrate(old, upTo: "v4-skipped-folders")
        try old.write { db in
            try db.execute(sql: """
                INSERT INTO run (watch_path, output_path, window, weighting, penalty, metric, smoothing, first_seen, updated_at)
                VALUES ('/r', '/o', 3, 'step', 2.0, 'train_loss', 4, '2027-01-15 08:00:00.000', '2027-01-15 08:00:00.000');
                INSERT INTO merge (created_at, weighting, penalty, metric, window, output_path, output_sha256, duration_seconds)
                VALUES ('2027-01-15 08:00:00.000', 'step', 2.0, 'step', 3, '/o', 'f', 0.1);
                """)
        }
        try old.close()
        let ledger = try Ledger(path: path)
        let merge = try #require(try ledger.lastMerge())
        #expect(merge.settings == MergeSettings(window: 3, weighting: "step", penalty: 2, metric: .trainLoss, smoothing: 4, method: "linear"))
        #expect(try ledger.run()?.settings.smoothing == 4)
    }
}
