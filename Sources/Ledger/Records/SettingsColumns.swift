import Foundation
import GRDB
import Ingest
import Weigh

/// How ``MergeSettings`` is stored in the `run` and `merge` tables: whole, as JSON in
/// the `settings` column (since schema v5). The older per-setting columns are still
/// written, from the same value, for their NOT NULL constraints; they are read only
/// from a ledger made before v5 and not yet upgraded.
enum SettingsColumns {
    static func encode(_ settings: MergeSettings, to container: inout PersistenceContainer) throws {
        container["settings"] = String(decoding: try JSONEncoder.sorted.encode(settings), as: UTF8.self)
        container["window"] = settings.window
        container["weighting"] = settings.weighting.rawValue
        container["penalty"] = settings.penalty
        container["metric"] = settings.metric.rawValue
    }

    static func decode(_ row: Row) throws -> MergeSettings {
        if row.hasColumn("settings"), let json: String = row["settings"] {
            return try JSONDecoder().decode(MergeSettings.self, from: Data(json.utf8))
        }
        return legacy(row)
    }

    /// The settings of a row written before v5 (`smoothing` only the run table had; a
    /// merge row's metric says `step` under step weighting, which read no loss).
    static func legacy(_ row: Row) -> MergeSettings {
        MergeSettings(window: row["window"], weighting: WeightingKind(rawValue: row["weighting"]) ?? .loss,
                      penalty: row["penalty"], metric: Metric(rawValue: row["metric"]).flatMap { $0 == .step ? nil : $0 } ?? .trainLoss,
                      smoothing: row.hasColumn("smoothing") ? row["smoothing"] : 1)
    }
}

extension JSONEncoder {
    /// Key-sorted JSON: the same value always gives the same text.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
