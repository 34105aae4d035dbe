import Foundation
import GRDB

extension Ledger {
    /// Records that `version` (a folder) was loaded into the serving engine as
    /// `name` at `date`; clears the last failure.
    public func recordServed(url: String, name: String, version: String, step: Int64?, rank: Int?, truncationError: Double?,
                             at date: Date = Date()) throws(LedgerError) {
        try write { db in
            var row = try ServingRecord.fetchOne(db) ?? ServingRecord(url: url, name: name)
            (row.url, row.name, row.version, row.step, row.rank, row.truncationError) = (url, name, version, step, rank, truncationError)
            (row.loadedAt, row.lastFailure, row.lastFailureAt) = (date, nil, nil)
            try row.save(db)
        }
    }

    /// Records that loading into the serving engine failed, and why (the server's own
    /// words where it answered); what it served before stays recorded.
    public func recordServingFailure(url: String, name: String, _ text: String, at date: Date = Date()) throws(LedgerError) {
        try write { db in
            var row = try ServingRecord.fetchOne(db) ?? ServingRecord(url: url, name: name)
            (row.url, row.name, row.lastFailure, row.lastFailureAt) = (url, name, text, date)
            try row.save(db)
        }
    }
}
