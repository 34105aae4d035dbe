import Foundation
import SettingsValue
import GRDB
import Ingest

/// One published merge, with the settings it was made with (whole, as one value).
public struct MergeRecord: Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "merge"

    public var id: Int64?
    public var createdAt: Date
    /// The effective settings the merge was made with (every declared parameter
    /// present: the catalog's `effective`, which whoever records a merge gives).
    public var settings: MergeSettings
    public var outputPath: String
    public var outputSHA256: String
    public var durationSeconds: Double
    /// How the `on_merge` hook ended: `ok`, `exit status N`, `timed out after N s`,
    /// `failed to start: …`; nil when no hook is configured (or it is still running).
    public var hookStatus: String?
    /// What the merge method made (ranks, truncation error); nil for `linear`.
    public var report: MergeReport?

    public init(id: Int64? = nil, createdAt: Date, settings: MergeSettings, outputPath: String, outputSHA256: String,
                durationSeconds: Double, report: MergeReport? = nil) {
        self.report = report
        self.id = id
        self.createdAt = createdAt
        self.settings = settings
        fingerprint = settings.fingerprint
        self.outputPath = outputPath
        self.outputSHA256 = outputSHA256
        self.durationSeconds = durationSeconds
    }

    /// ``MergeSettings/fingerprint`` of ``settings``, as the row stores it: read back as
    /// written, whatever a later version would compute.
    public var fingerprint: String

    public enum Columns {
        public static let id = Column("id")
        public static let createdAt = Column("created_at")
        public static let settings = Column("settings")
        public static let fingerprint = Column("fingerprint")
        public static let outputPath = Column("output_path")
        public static let outputSHA256 = Column("output_sha256")
        public static let durationSeconds = Column("duration_seconds")
        public static let hookStatus = Column("hook_status")
    }

    public init(row: Row) throws {
        id = row[Columns.id]
        createdAt = row[Columns.createdAt]
        settings = try SettingsColumns.decode(row)
        let stored: String? = row.hasColumn("fingerprint") ? row[Columns.fingerprint] : nil
        fingerprint = stored ?? settings.fingerprint
        outputPath = row[Columns.outputPath]
        outputSHA256 = row[Columns.outputSHA256]
        durationSeconds = row[Columns.durationSeconds]
        hookStatus = row.hasColumn("hook_status") ? row[Columns.hookStatus] : nil
        let report: String? = row.hasColumn("report") ? row["report"] : nil
        self.report = try report.map { try JSONDecoder().decode(MergeReport.self, from: Data($0.utf8)) }
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container[Columns.id] = id
        container[Columns.createdAt] = createdAt
        try SettingsColumns.encode(settings, to: &container)
        container[Columns.fingerprint] = fingerprint
        container[Columns.outputPath] = outputPath
        container[Columns.outputSHA256] = outputSHA256
        container[Columns.durationSeconds] = durationSeconds
        container[Columns.hookStatus] = hookStatus
        container["report"] = try report.map { String(decoding: try JSONEncoder.sorted.encode($0), as: UTF8.self) }
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A checkpoint's place in a merge.
public struct MergeMemberRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "merge_member"

    public var mergeID: Int64
    public var checkpointID: Int64
    /// Order within the merge (by step).
    public var position: Int
    public var weight: Double
    public var metricValue: Double?
    /// The step the metric was logged at, where earlier than the member's own.
    public var metricStep: Int64?

    public init(mergeID: Int64, checkpointID: Int64, position: Int, weight: Double, metricValue: Double?, metricStep: Int64? = nil) {
        self.mergeID = mergeID
        self.checkpointID = checkpointID
        self.position = position
        self.weight = weight
        self.metricValue = metricValue
        self.metricStep = metricStep
    }

    enum CodingKeys: String, CodingKey {
        case position, weight
        case mergeID = "merge_id", checkpointID = "checkpoint_id", metricValue = "metric_value", metricStep = "metric_step"
    }

    public enum Columns {
        public static let mergeID = Column(CodingKeys.mergeID)
        public static let position = Column(CodingKeys.position)
    }
}
