import Foundation
import Settings
import Weigh
import Publish

/// The members of a merge as an aligned text table.
enum MemberTable {
    static func render(_ manifest: MergeManifest) -> String {
        // What the weighting used (ema: each member's age), where that is not the metric.
        let weighed = manifest.settings.weighed(manifest.members.map { Candidate(name: $0.name, step: $0.step, metricValue: $0.metricValue) })
        var rows = [["step", "checkpoint", weighed?.title ?? manifest.metric, "weight"]]
        for (index, member) in manifest.members.enumerated() {
            // A value logged before the member's own step says which step it is from.
            let metric = weighed?.values[index]
                ?? member.metricValue.map { String(format: "%.6f", $0) + (member.metricStep.map { " (step \($0))" } ?? "") } ?? "-"
            rows.append(["\(member.step)", member.name, metric, String(format: "%.6f", member.weight)])
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max()! }
        let lines = rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 1 ? cell + pad : pad + cell  // names left, numbers right
            }.joined(separator: "  ")
        }
        return ([manifest.settings.summary] + lines + [weighed?.resolved, manifest.report?.summary].compactMap { $0 }).joined(separator: "\n")
    }
}
