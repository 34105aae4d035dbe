import Foundation
import Evaluate
import Ledger
import Settings

/// What a daemon started on an existing ledger does otherwise than the last run on it:
/// the output moved, the settings that decide the merge, evaluation switched on or
/// off, the best adapter's folder. One notice line at start, each change old → new, so
/// that an output left stale or a changed merge is never silent.
enum ChangeNotice {
    static func line(config: DaemonConfig, run: RunRecord?, snapshot: LedgerSnapshot) -> String? {
        guard let run else { return nil }  // a new ledger: nothing to compare
        var changes: [String] = []
        if run.outputPath != config.output {
            changes.append("output \(run.outputPath) → \(config.output) (the merge in \(run.outputPath) stays as it was, no longer updated)")
        }
        changes += settingChanges(run.settings.effective, config.merge.effective)
        // What the last run recorded of its evaluation (nothing in a ledger from before).
        if let last = run.evaluation, last != evaluation(config.evaluation) {
            let before = RunEvaluation.decode(last), now = RunEvaluation.decode(evaluation(config.evaluation))
            if config.evaluation == nil {
                changes.append("evaluation on → off (no eval.command\(snapshot.best.map { "; \($0.outputPath) is no longer updated" } ?? ""))")
            } else if last == RunEvaluation.off {
                changes.append("evaluation off → on")
            } else if let before, let now, before.summary != now.summary {
                changes.append("evaluation \(before.summary) → \(now.summary)")
            } else if let before, let now, before.staleAfter != now.staleAfter {
                changes.append("eval.stale_after \(before.staleAfter) → \(now.staleAfter)")
            }
        }
        guard !changes.isEmpty else { return nil }
        return "changed since the last run on this ledger: " + changes.joined(separator: "; ")
    }

    /// The evaluation as the run record keeps it: `off`, or the evaluator, the best
    /// folder and the staleness threshold (``RunEvaluation``).
    static func evaluation(_ settings: EvalSettings?) -> String {
        guard let settings else { return RunEvaluation.off }
        return RunEvaluation(command: settings.command.joined(separator: " "), bestOutput: settings.bestOutput, staleAfter: settings.staleAfter).text
    }

    /// Each setting that differs, as `method delta → auto`.
    static func settingChanges(_ old: MergeSettings, _ new: MergeSettings) -> [String] {
        var changes: [String] = []
        func compare(_ name: String, _ a: String, _ b: String) { if a != b { changes.append("\(name) \(a) → \(b)") } }
        compare("window", old.window.summary, new.window.summary)  // with its steps and stride
        for setting in SettingsText.fixed() where !["window", "window_steps", "stride"].contains(setting.name) {
            compare(setting.name, setting.text(old), setting.text(new))
        }
        for name in Set(old.parameters.values.keys).union(new.parameters.values.keys).sorted() {
            compare(name, old.parameters[name].map { "\($0)" } ?? "unset", new.parameters[name].map { "\($0)" } ?? "unset")
        }
        return changes
    }
}
