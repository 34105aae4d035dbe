import Foundation
import Weigh
import Publish

/// The members of a merge as an aligned text table.
enum MemberTable {
    static func render(_ manifest: MergeManifest) -> String {
        var rows = [["step", "checkpoint", manifest.metric, "weight"]]
        for member in manifest.members {
            let metric = member.metricValue.map { String(format: "%.6f", $0) } ?? "-"
            rows.append(["\(member.step)", member.name, metric, String(format: "%.6f", member.weight)])
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max()! }
        let lines = rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 1 ? cell + pad : pad + cell  // names left, numbers right
            }.joined(separator: "  ")
        }
        let heading = "\(manifest.weighting) weighting, penalty \(MergeSettings.number(manifest.penalty)), window \(manifest.window)"
        return ([heading] + lines).joined(separator: "\n")
    }
}
