import Foundation
import Ledger
import SettingsValue

/// The evaluation part of `mwad status`: the latest window's scores against its newest
/// checkpoint, how the merge fared over the run, who won, and the best adapter.
enum EvaluationView {
    static func lines(_ report: StatusReport, words: any SettingsWords) -> [(label: String, text: String)] {
        guard let first = report.evaluations.last else { return [] }
        let window = report.evaluations.filter { $0.mergeId == first.mergeId }
        var lines: [(String, String)] = [("evaluation", "merge #\(first.mergeId) window, \(first.metric) (\(first.goal == "maximize" ? "higher" : "lower") is better)")]
        let rows = [["adapter", first.metric, "vs checkpoint", ""]] + window.map { evaluation in
            [name(evaluation, words: words), evaluation.value.map { String(format: "%.6f", $0) } ?? "failed",
             evaluation.vsCheckpointPercent.map { String(format: "%+.2f %%", $0) } ?? "",
             evaluation.best ? "best" : (evaluation.error.map { String($0.prefix(60)) } ?? "")]
        }
        lines += HumanView.table(rows, leftAligned: [0, 3]).map { ("", $0) }
        if let summary = report.evaluationSummary, summary.windows > 0 {
            let mean = summary.meanDeltaPercent.map { String(format: " (mean Δ %+.2f %%)", $0) } ?? ""
            let ties = (summary.mergeTied ?? 0) > 0 ? "; \(summary.mergeTied!) of one member (the merge is its checkpoint) not counted" : ""
            let steps = summary.fromStep.map { " at steps \($0)–\(summary.toStep ?? $0)" } ?? ""
            lines.append(("", "over the run: merge better than the newest checkpoint in \(summary.mergeBetter) of \(summary.windows) windows\(steps)\(mean)\(ties)"))
            if let late = summary.lastQuarter, late.windows < summary.windows {
                let lateMean = late.meanDeltaPercent.map { String(format: " (mean Δ %+.2f %%)", $0) } ?? ""
                lines.append(("", "last quarter (steps ≥ \(late.fromStep)): better in \(late.mergeBetter) of \(late.windows)\(lateMean)"))
            }
            let wins = summary.wins.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }
            if !wins.isEmpty { lines.append(("", "best per window: " + wins.joined(separator: " · "))) }
        }
        if let best = report.best {
            let value = best.value.map { String(format: "%.6f", $0) } ?? "?"
            lines.append(("best", "\(best.what) of merge #\(best.mergeId) (\(best.metric) \(value)) → \(best.output) at \(HumanView.time(best.published))"))
            // The promise holds for the window the best came from: say how old that is.
            if let newest = best.runNewestStep, let behind = best.savesBehind {
                var age = "from the window ending at step \(best.step); the run is at step \(newest)"
                    + (behind == 0 ? " (the newest evaluated window)" : ", \(behind) save\(behind == 1 ? "" : "s") later")
                if let skipped = best.windowsSkippedSince, skipped > 0 { age += "; \(skipped) newer window\(skipped == 1 ? " was" : "s were") not evaluated" }
                lines.append(("", age))
                let limit = best.staleAfter ?? RunEvaluation.defaultStaleAfter
                if behind > limit {
                    lines.append(("", "stale: the best is more than \(limit) saves behind the run (the evaluator is slower than the saves); it is never worse than its own window's newest checkpoint, not than the run's"))
                }
            }
        }
        return lines
    }

    private static func name(_ evaluation: StatusReport.Evaluation, words: any SettingsWords) -> String {
        switch evaluation.target {
        case "checkpoint": "checkpoint-\(evaluation.step)"
        case "candidate": "candidate: " + (evaluation.settings.map(words.brief) ?? "?")
        default: evaluation.target
        }
    }
}
