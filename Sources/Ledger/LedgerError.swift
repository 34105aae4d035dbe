/// Why the ledger could not be opened, read or written.
public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No file at the path (status only: the daemon creates it).
    case missing(path: String)
    /// The file is not an SQLite database, or not one mwad made.
    case notALedger(path: String, reason: String)
    /// The ledger was written by a newer mwad whose schema this one does not know.
    case newerSchema(path: String, migration: String)
    /// The path is on a network file system, where SQLite's WAL cannot work.
    case networkFileSystem(path: String, kind: String)
    /// The ledger belongs to another run directory.
    case otherRun(path: String, recorded: String, requested: String)
    /// Another process holds the ledger's writer lock (its pid, when known).
    case locked(path: String, pid: Int32?)
    /// SQLite failed (path, SQLite's message).
    case database(path: String, message: String)
    /// The writer lock's file was removed or replaced under the running daemon (its
    /// state directory deleted?): another mwad could now take a lock beside it.
    case lockLost(path: String)

    public var description: String {
        switch self {
        case .missing(let path): "\(path): no ledger there (has mwad run for this directory?)"
        case .notALedger(let path, let reason): "\(path): not an mwad ledger (\(reason))"
        case .newerSchema(let path, let migration):
            "\(path): written by a newer mwad (schema step '\(migration)' unknown); upgrade mwad"
        case .networkFileSystem(let path, let kind):
            "\(path): on a \(kind) network file system, where SQLite's write-ahead log is unsafe; put the ledger on a local disk (--ledger or state_directory)"
        case .otherRun(let path, let recorded, let requested):
            "\(path): this ledger belongs to the run in \(recorded), not \(requested); give another --ledger"
        case .locked(let path, let pid): "another mwad (pid \(pid.map(String.init) ?? "unknown")) is using \(path)"
        case .database(let path, let message): "\(path): \(message)"
        case .lockLost(let path):
            "\(path).lock was removed or replaced while this mwad held it (was the state directory deleted?); stopped, so that no second mwad writes this ledger beside it"
        }
    }
}
