import Foundation
import SettingsValue
import GRDB
import Ingest

/// How ``MergeSettings`` is stored in the `run` and `merge` tables: whole, as JSON in
/// the `settings` column (since schema v5). The older per-setting columns are still
/// written, from the same value, for their NOT NULL constraints; they are read only
/// from a ledger made before v5 and not yet upgraded.
enum SettingsColumns {
    static func encode(_ settings: MergeSettings, to container: inout PersistenceContainer) throws {
        container["settings"] = String(decoding: try JSONEncoder.sorted.encode(settings), as: UTF8.self)
        container["window"] = settings.window.count ?? 0
        container["weighting"] = settings.weighting
        container["penalty"] = settings.parameters["penalty"]?.number ?? 0
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
        let weighting: String = row["weighting"]
        let penalty: Double = row["penalty"]
        return MergeSettings(window: WindowSpec(count: row["window"]), weighting: weighting,
                             metric: Metric(rawValue: row["metric"]) ?? .trainLoss,
                             smoothing: row.hasColumn("smoothing") ? row["smoothing"] : 1, method: "linear",
                             parameters: weighting == "uniform" ? [:] : ["penalty": .number(penalty)])
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
