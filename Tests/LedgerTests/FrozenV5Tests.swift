import Foundation
import GRDB
@testable import Ledger
import Settings
import Testing

/// Schema v5's frozen reading of pre-v5 rows writes what the settings value of today
/// makes of them: the same JSON (decoded to the same settings) and the fingerprint of
/// their effective form. Should the settings coding change, upgrading an old ledger
/// still writes what v5 wrote, and this test says where today's value parts from it.
@Suite struct FrozenV5Tests {
    /// window, weighting, penalty, metric, smoothing of a pre-v5 row.
    static let rows: [(Int, String, Double, String, Int)] = [
        (5, "loss", 1, "train_loss", 1), (3, "loss", 0.5, "eval_loss", 4), (5, "step", 0, "step", 1),
        (2, "loss", 0, "train_loss", 1), (8, "uniform", 0, "train_loss", 1), (4, "step", 2.25, "step", 1),
    ]

    @Test(arguments: rows.indices) func agreesWithTheSettingsValue(_ index: Int) throws {
        let (window, weighting, penalty, metric, smoothing) = Self.rows[index]
        let row = Row(["window": window, "weighting": weighting, "penalty": penalty, "metric": metric, "smoothing": smoothing])
        let frozen = FrozenV5.Settings(row)
        let today = SettingsColumns.legacy(row)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(frozen.json == String(decoding: try encoder.encode(today), as: UTF8.self))
        #expect(try JSONDecoder().decode(MergeSettings.self, from: Data(frozen.json.utf8)) == today)
        #expect(frozen.fingerprint == today.effective.fingerprint, "\(frozen.json)")
    }
}
