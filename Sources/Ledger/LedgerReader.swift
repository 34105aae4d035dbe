import Foundation
import GRDB

/// Read-only access to a ledger, for `mwad status`: it never writes, never creates a
/// file, and works on a ledger the user may read but not write.
public final class LedgerReader: Sendable {
    public let path: String
    private let queue: DatabaseQueue

    public init(path: String) throws(LedgerError) {
        self.path = path
        var folder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &folder) else { throw .missing(path: path) }
        if folder.boolValue {
            let inside = (path as NSString).appendingPathComponent(LedgerLocation.fileName)
            throw .notALedger(path: path, reason: FileManager.default.fileExists(atPath: inside)
                ? "a folder; its ledger is \(inside): give that to --ledger" : "a folder, not a ledger file: give --ledger FILE or --watch DIR")
        }
        do {
            queue = try Self.open(path)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY || error.resultCode == .SQLITE_CANTOPEN {
            // A WAL database needs its -shm file; with no daemon running it is gone,
            // and a user who may not write the folder cannot create it. No -shm means
            // no open writer and a checkpointed WAL: the main file alone is the whole
            // ledger, which SQLite reads as "immutable" without any file of its own.
            do { queue = try Self.open(Self.immutableURI(path)) } catch { throw LedgerError(error, path: path) }
        } catch {
            throw LedgerError(error, path: path)
        }
    }

    private static func open(_ path: String) throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(Ledger.busyTimeout)
        let queue = try DatabaseQueue(path: path, configuration: config)
        try queue.read { db in try SchemaCheck.verify(db, path: path, allowEmpty: false) }
        return queue
    }

    /// An SQLite URI filename (Debian's SQLite is built with SQLITE_USE_URI).
    private static func immutableURI(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        return "file:\(absolute.addingPercentEncoding(withAllowedCharacters: allowed) ?? absolute)?immutable=1"
    }

    /// Everything status shows, read in one transaction: a consistent snapshot in which
    /// a merge appears with all its members or not at all.
    public func snapshot() throws(LedgerError) -> LedgerSnapshot {
        do { return try queue.read { db in try LedgerSnapshot.fetch(db, mergeHistory: true) } } catch {
            throw LedgerError(error, path: path)
        }
    }
}

