import GRDB

/// Tells an mwad ledger from any other file before anything is written to it.
enum SchemaCheck {
    /// Throws unless `db` is empty (when `allowEmpty`) or holds mwad's migrations,
    /// none of them unknown to this version.
    static func verify(_ db: Database, path: String, allowEmpty: Bool) throws {
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        if tables.isEmpty {
            if allowEmpty { return }
            throw LedgerError.notALedger(path: path, reason: "the database is empty")
        }
        guard tables.contains("grdb_migrations"), tables.contains("checkpoint") else {
            throw LedgerError.notALedger(path: path, reason: "an SQLite database with other tables: \(tables.sorted().prefix(5).joined(separator: ", "))")
        }
        let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        if let unknown = applied.first(where: { !Schema.identifiers.contains($0) }) {
            throw LedgerError.newerSchema(path: path, migration: unknown)
        }
    }
}

extension LedgerError {
    /// Maps GRDB's and SQLite's errors to one clear case.
    init(_ error: any Error, path: String) {
        if let error = error as? LedgerError {
            self = error
        } else if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_NOTADB: self = .notALedger(path: path, reason: "not an SQLite database")
            case .SQLITE_CANTOPEN: self = .database(path: path, message: "cannot open: \(error.message ?? "unknown reason")")
            default: self = .database(path: path, message: error.message ?? "\(error)")
            }
        } else {
            self = .database(path: path, message: "\(error)")
        }
    }
}
