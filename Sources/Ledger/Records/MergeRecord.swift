import Foundation
import GRDB

/// One published merge.
public struct MergeRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "merge"

    public var id: Int64?
    public var createdAt: Date
    public var weighting: String
    public var penalty: Double
    public var metric: String
    public var window: Int
    public var outputPath: String
    public var outputSHA256: String
    public var durationSeconds: Double
    /// How the `on_merge` hook ended: `ok`, `exit status N`, `timed out after N s`,
    /// `failed to start: …`; nil when no hook is configured (or it is still running).
    public var hookStatus: String?

    public init(id: Int64? = nil, createdAt: Date, weighting: String, penalty: Double, metric: String, window: Int,
                outputPath: String, outputSHA256: String, durationSeconds: Double) {
        self.id = id
        self.createdAt = createdAt
        self.weighting = weighting
        self.penalty = penalty
        self.metric = metric
        self.window = window
        self.outputPath = outputPath
        self.outputSHA256 = outputSHA256
        self.durationSeconds = durationSeconds
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    enum CodingKeys: String, CodingKey {
        case id, weighting, penalty, metric, window
        case createdAt = "created_at", outputPath = "output_path", outputSHA256 = "output_sha256"
        case durationSeconds = "duration_seconds", hookStatus = "hook_status"
    }
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

    public init(mergeID: Int64, checkpointID: Int64, position: Int, weight: Double, metricValue: Double?) {
        self.mergeID = mergeID
        self.checkpointID = checkpointID
        self.position = position
        self.weight = weight
        self.metricValue = metricValue
    }

    enum CodingKeys: String, CodingKey {
        case position, weight
        case mergeID = "merge_id", checkpointID = "checkpoint_id", metricValue = "metric_value"
    }
}
