import Foundation
import Settings
import Weigh
import Publish

/// The members of a merge as an aligned text table.
enum MemberTable {
    static func render(_ manifest: MergeManifest) -> String {
        var rows = [["step", "checkpoint", manifest.metric, "weight"]]
        for member in manifest.members {
            // A value logged before the member's own step says which step it is from.
            let metric = member.metricValue.map { String(format: "%.6f", $0) + (member.metricStep.map { " (step \($0))" } ?? "") } ?? "-"
            rows.append(["\(member.step)", member.name, metric, String(format: "%.6f", member.weight)])
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max()! }
        let lines = rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 1 ? cell + pad : pad + cell  // names left, numbers right
            }.joined(separator: "  ")
        }
        return ([manifest.settings.summary] + lines + [manifest.report?.summary].compactMap { $0 }).joined(separator: "\n")
    }
}
