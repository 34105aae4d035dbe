import Foundation
import GRDB

/// Schema v5's reading of a row written before it (the per-setting columns), frozen
/// as it was when v5 was released: a migration must not use the application's types
/// (GRDB's rule), since a later change to their coding would change what upgrading
/// an old ledger writes. `FrozenV5Tests` checks that it still agrees with the
/// settings value for every kind of pre-v5 row.
enum FrozenV5 {
    /// The settings of a pre-v5 row: window, weighting, its penalty (none for
    /// uniform), the metric (`step` under step weighting read as train_loss), the
    /// smoothing, and method linear, the only one then.
    struct Settings: Equatable {
        var window: Int
        var weighting: String
        var penalty: Double?
        var metric: String
        var smoothing: Int

        init(_ row: Row, smoothing: Int? = nil) {
            window = row["window"]
            weighting = row["weighting"]
            let penalty: Double = row["penalty"]
            self.penalty = weighting == "uniform" ? nil : penalty
            let metric: String = row["metric"]
            self.metric = ["train_loss", "eval_loss"].contains(metric) ? metric : "train_loss"
            self.smoothing = smoothing ?? (row.hasColumn("smoothing") ? row["smoothing"] : 1)
        }

        /// The `settings` column: key-sorted JSON, as v5 wrote it.
        var json: String {
            var fields = ["\"method\":\"linear\"", "\"metric\":\"\(metric)\""]
            if let penalty { fields.append("\"penalty\":\(Self.number(penalty))") }
            fields += ["\"smoothing\":\(smoothing)", "\"weighting\":\"\(weighting)\"", "\"window\":\(window)"]
            return "{" + fields.joined(separator: ",") + "}"
        }

        /// The `fingerprint` column: FNV-1a (64 bits, hex) of the canonical text of the
        /// effective settings (a zero penalty of loss or step is uniform weighting).
        var fingerprint: String {
            var weighting = self.weighting
            var parameters = penalty.map { "penalty=\(Self.number($0));" } ?? ""
            if penalty == 0, ["loss", "step"].contains(weighting) {
                weighting = "uniform"
                parameters = ""
            }
            let canonical = "window=\(window);weighting=\(weighting);\(parameters)metric=\(metric);smoothing=\(smoothing);method=linear"
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in canonical.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            let hex = String(hash, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }

        static func number(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        }
    }
}
