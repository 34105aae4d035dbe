import Foundation
import GRDB
import Ingest
import Weigh

/// The run a ledger belongs to (one row): what is watched, where the merge goes, and
/// the settings in force.
public struct RunRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// Always 1: the table holds one row.
    public var id: Int64 = 1
    public static let databaseTableName = "run"

    public var watchPath: String
    public var outputPath: String
    public var window: Int
    public var weighting: WeightingKind
    public var penalty: Double
    public var metric: Metric
    public var smoothing: Int
    public var firstSeen: Date
    public var updatedAt: Date

    public init(watchPath: String, outputPath: String, settings: MergeSettings, firstSeen: Date, updatedAt: Date) {
        self.watchPath = watchPath
        self.outputPath = outputPath
        window = settings.window
        weighting = settings.weighting
        penalty = settings.penalty
        metric = settings.metric
        smoothing = settings.smoothing
        self.firstSeen = firstSeen
        self.updatedAt = updatedAt
    }

    public var settings: MergeSettings {
        MergeSettings(window: window, weighting: weighting, penalty: penalty, metric: metric, smoothing: smoothing)
    }

    enum CodingKeys: String, CodingKey {
        case id
        case watchPath = "watch_path", outputPath = "output_path", window, weighting, penalty, metric, smoothing
        case firstSeen = "first_seen", updatedAt = "updated_at"
    }
}

extension WeightingKind: DatabaseValueConvertible {}
extension Metric: DatabaseValueConvertible {}
