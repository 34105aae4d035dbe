import Foundation
import SettingsValue
import GRDB
import Ingest

/// The run a ledger belongs to (one row): what is watched, where the merge goes, and
/// the settings in force (as configured; the merge rows hold what each merge used).
public struct RunRecord: Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "run"

    public var watchPath: String
    public var outputPath: String
    public var settings: MergeSettings
    public var firstSeen: Date
    public var updatedAt: Date
    /// How the run evaluates, as the daemon says it (`off`, or the evaluator and its
    /// best folder); nil in a ledger from before mwad recorded it, or from `mwad merge`.
    public var evaluation: String?

    public init(watchPath: String, outputPath: String, settings: MergeSettings, firstSeen: Date, updatedAt: Date, evaluation: String? = nil) {
        self.watchPath = watchPath
        self.outputPath = outputPath
        self.settings = settings
        self.firstSeen = firstSeen
        self.updatedAt = updatedAt
        self.evaluation = evaluation
    }

    public enum Columns {
        public static let watchPath = Column("watch_path")
        public static let outputPath = Column("output_path")
        public static let firstSeen = Column("first_seen")
        public static let updatedAt = Column("updated_at")
    }

    public init(row: Row) throws {
        watchPath = row[Columns.watchPath]
        outputPath = row[Columns.outputPath]
        settings = try SettingsColumns.decode(row)
        firstSeen = row[Columns.firstSeen]
        updatedAt = row[Columns.updatedAt]
        evaluation = row.hasColumn("evaluation") ? row["evaluation"] : nil
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["id"] = 1  // one run per ledger
        container[Columns.watchPath] = watchPath
        container[Columns.outputPath] = outputPath
        try SettingsColumns.encode(settings, to: &container)
        container["smoothing"] = settings.smoothing
        container[Columns.firstSeen] = firstSeen
        container[Columns.updatedAt] = updatedAt
        container["evaluation"] = evaluation
    }
}

extension Metric: DatabaseValueConvertible {}

/// How a run evaluates, as `run.evaluation` keeps it: `off`, or this as JSON.
public struct RunEvaluation: Codable, Sendable, Equatable {
    public var command: String
    public var bestOutput: String?
    /// Saves behind the run after which status calls the best adapter stale.
    public var staleAfter: Int

    public static let off = "off"
    public static let defaultStaleAfter = 5

    public init(command: String, bestOutput: String?, staleAfter: Int) {
        self.command = command
        self.bestOutput = bestOutput
        self.staleAfter = staleAfter
    }

    enum CodingKeys: String, CodingKey {
        case command, bestOutput = "best_output", staleAfter = "stale_after"
    }

    /// The column's text (sorted keys: one value, one text).
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? Self.off
    }

    /// The column's value read back; nil for `off`, an empty column or an older text.
    public static func decode(_ text: String?) -> RunEvaluation? {
        guard let text, text != off else { return nil }
        return try? JSONDecoder().decode(RunEvaluation.self, from: Data(text.utf8))
    }

    /// `CMD into DIR`, for notices.
    public var summary: String { "\(command) into \(bestOutput ?? "no best_output")" }
}
