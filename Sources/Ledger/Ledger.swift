import Foundation
import SettingsValue
import GRDB
import HostFileSystem

/// The daemon's memory: every checkpoint seen and what was decided about it, every
/// merge published, and the daemon's heartbeat, in one SQLite file.
///
/// The file is in WAL mode, so `mwad status` reads a consistent snapshot while the
/// daemon writes, and never blocks it. Durability: `synchronous=FULL`, so a commit
/// that returned survives a power cut; writes are a few rows per checkpoint, so the
/// extra fsync costs nothing that matters. Foreign keys are on; a busy timeout
/// covers another writer. Tests open it on an in-memory database (``inMemory()``).
public final class Ledger: Sendable {
    public let path: String
    let writer: any DatabaseWriter

    /// How long a write waits for another writer before failing.
    public static let busyTimeout: TimeInterval = 10

    /// Opens (creating if needed) the ledger at `path` and brings its schema up to date.
    /// Refuses a path on a network file system, and — before anything is written —
    /// a ledger that belongs to another run than `run` (the watched directory), when
    /// given. `busyTimeout` is how long a write waits for another writer (0: fail at
    /// once with SQLITE_BUSY).
    public init(path: String, run: String? = nil, busyTimeout: TimeInterval = Ledger.busyTimeout) throws(LedgerError) {
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
            let pool = try DatabasePool(path: path, configuration: config)
            // After the pool's own WAL set-up, which chooses NORMAL; the pool keeps this
            // one writer connection for its lifetime, so setting it once holds.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            writer = pool
            try Self.prepare(pool, path: path, run: run)
        } catch {
            throw LedgerError(error, path: path)
        }
    }

    /// A ledger in memory, for tests: the same schema and code, no file.
    public static func inMemory(run: String? = nil) throws(LedgerError) -> Ledger {
        do {
            let queue = try DatabaseQueue()
            try prepare(queue, path: ":memory:", run: run)
            return Ledger(writer: queue, path: ":memory:")
        } catch {
            throw LedgerError(error, path: ":memory:")
        }
    }

    private init(writer: any DatabaseWriter, path: String) {
        self.writer = writer
        self.path = path
    }

    /// Checks the file is an mwad ledger of `run`, then migrates it.
    private static func prepare(_ writer: any DatabaseWriter, path: String, run: String?) throws {
        try writer.read { db in
            try SchemaCheck.verify(db, path: path, allowEmpty: true)
            if let run, try db.tableExists("run"),
               let recorded = try String.fetchOne(db, sql: "SELECT watch_path FROM run"), recorded != run {
                throw LedgerError.otherRun(path: path, recorded: recorded, requested: run)
            }
        }
        try Schema.migrator.migrate(writer)
    }

    /// Runs `body` in a write transaction, mapping failures to ``LedgerError``.
    func write<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
        do { return try writer.write(body) } catch { throw LedgerError(error, path: path) }
    }

    /// Runs `body` in a read transaction (a snapshot).
    func read<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
        do { return try writer.read(body) } catch { throw LedgerError(error, path: path) }
    }

    /// Everything the ledger holds, read in one transaction: what one pass of the
    /// daemon decides from.
    public func snapshot() throws(LedgerError) -> LedgerSnapshot {
        try read { db in try LedgerSnapshot.fetch(db) }
    }
}

// MARK: - The run

extension Ledger {
    /// Records (or updates) the run this ledger belongs to. A ledger made for another
    /// watched directory is refused: mixing two runs' checkpoints would merge nonsense.
    @discardableResult
    /// `evaluation` nil keeps what was recorded (`mwad merge` does not evaluate).
    public func registerRun(watch: String, output: String, settings: MergeSettings, evaluation: String? = nil,
                            now: Date = Date()) throws(LedgerError) -> RunRecord {
        try write { db in
            var run = RunRecord(watchPath: watch, outputPath: output, settings: settings, firstSeen: now, updatedAt: now, evaluation: evaluation)
            if let existing = try RunRecord.fetchOne(db) {
                guard existing.watchPath == watch else {
                    throw LedgerError.otherRun(path: self.path, recorded: existing.watchPath, requested: watch)
                }
                run.firstSeen = existing.firstSeen
                if evaluation == nil { run.evaluation = existing.evaluation }
            }
            try run.upsert(db)
            return run
        }
    }

    public func run() throws(LedgerError) -> RunRecord? {
        try read { db in try RunRecord.fetchOne(db) }
    }
}
