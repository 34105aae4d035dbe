import Foundation
import SettingsValue

/// `mwad status` for people: one labelled line per fact, the merge as a table with a
/// bar per weight, the loss as a sparkline, and every rejection and skipped folder
/// with its reason.
public enum HumanView {
    public static func render(_ report: StatusReport) -> String {
        let words = report.words ?? PlainWords()
        var lines: [String] = []
        func line(_ label: String, _ text: String) { lines.append(label.padding(toLength: 12, withPad: " ", startingAt: 0) + text) }

        line("ledger", report.ledger)
        if let run = report.run {
            line("run", "\(run.watch) → \(run.output)")
            line("settings", words.summary(run.settings))
        }
        line("daemon", daemon(report.daemon, now: report.generatedAt))
        if let layout = report.daemon.layout { line("layout", layout) }
        if let publication = report.daemon.publication { line("publication", publication) }
        if let problem = report.daemon.problem {
            line("problem", "\(problem) (since \(report.daemon.problemSince.map(time) ?? "?"))")
        }
        line("checkpoints", checkpoints(report))
        if let earlier = report.earlierRun {
            line("", "an earlier run in this directory was replaced from step \(earlier.fromStep) (\(earlier.checkpoints) of its checkpoints, shown nowhere else)")
        }
        if let merge = report.merge {
            line("merge", "#\(merge.id) at \(time(merge.created)) · \(merge.members.count == 1 ? "1 member" : "\(merge.members.count) members") · \(String(format: "%.2f", merge.durationSeconds)) s · sha256 \(merge.outputSha256.prefix(12))\(merge.hookStatus.map { " · hook \($0)" } ?? "")")
            // A single-file merge is published inside the output folder: where, exactly.
            if let run = report.run, merge.output != run.output { line("", "→ \(merge.output)") }
            if merge.madeWithSettingsInForce {
                line("", "made with the settings in force (fingerprint \(merge.fingerprint))")
            } else {
                line("", "made with \(words.summary(merge.settings)) (fingerprint \(merge.fingerprint))")
                line("", "the settings in force differ: the daemon publishes a merge made with them at its next pass")
            }
            if let short = merge.windowShort { line("", "window short: \(short)") }
            lines += memberTable(merge, words: words).map { String(repeating: " ", count: 12) + $0 }
        } else {
            line("merge", "none yet")
        }
        for (label, text) in EvaluationView.lines(report, words: words) { line(label, text) }
        if let serving = report.serving {
            let loaded = serving.version.map { version in
                "\((version as NSString).lastPathComponent) (step \(serving.step.map(String.init) ?? "?"), rank \(serving.rank.map(String.init) ?? "?")"
                    + (serving.truncationError.map { String(format: ", truncated: relative error %.3g", $0) } ?? "")
                    + ") since \(serving.loadedAt.map(time) ?? "?")"
            } ?? "nothing loaded yet"
            line("serving", "\(serving.name) at \(serving.url): \(loaded)")
            if let failure = serving.lastFailure { line("", "last attempt failed at \(serving.lastFailureAt.map(time) ?? "?"): \(failure)") }
        }
        let metric = lossMetric(report)
        let points = report.losses.compactMap { point in value(point, metric).map { (point.step, $0) } }
        if points.count >= 2, let first = points.first, let last = points.last {
            let spark = Blocks.sparkline(points.map(\.1))
            line("loss", "\(spark)  \(metric) \(String(format: "%.6f", first.1)) → \(String(format: "%.6f", last.1)) (steps \(first.0)–\(last.0))")
        }
        for (index, rejected) in report.rejected.enumerated() {
            line(index == 0 ? "rejected" : "", "\(rejected.name): \(rejected.reason ?? "no reason recorded")")
        }
        for (index, missed) in report.missed.enumerated() {
            line(index == 0 ? "missed" : "", "\(missed.name): \(missed.reason ?? "no reason recorded")")
        }
        for (index, skipped) in report.skipped.enumerated() {
            line(index == 0 ? "skipped" : "", "\(skipped.name): \(skipped.reason)")
        }
        if let error = report.daemon.lastError {
            line("last error", "\(report.daemon.lastErrorAt.map(time) ?? "?") \(error)")
        }
        if let all = report.checkpoints {
            lines.append("")
            lines += allCheckpoints(all, exportable: report.exportable ?? [])
        }
        return lines.joined(separator: "\n")
    }

    private static func daemon(_ daemon: StatusReport.Daemon, now: Date) -> String {
        let who = daemon.pid.map { "pid \($0) on \(daemon.host ?? "?") · mwad \(daemon.version ?? "?")" } ?? ""
        let beat = daemon.heartbeatAgeSeconds.map { "last heartbeat \(age($0)) ago" } ?? ""
        switch daemon.state {
        case .running: return "running · \(who) · \(beat) · since \(daemon.started.map(time) ?? "?")"
        case .stale: return "stale (no heartbeat, not stopped cleanly: crashed, killed or hung) · \(who) · \(beat)"
        case .stopped: return "stopped · \(who) · at \(daemon.heartbeat.map(time) ?? "?")" + (daemon.stopReason.map { ": \($0)" } ?? "")
        case .never: return "never ran on this ledger"
        }
    }

    private static func checkpoints(_ report: StatusReport) -> String {
        let c = report.counts
        // Every checkpoint read whole, and where each is now: in the window (retained) or
        // evicted from it; an evicted one is no loss.
        let never = c.neverMerged > 0 ? ", \(c.neverMerged) of them never in a merge: ingested and evicted between two merges" : ""
        var text = "\(c.ingestedTotal) ingested (\(c.ingested) in the window, \(c.evicted) evicted\(never)) · \(c.rejected) rejected · \(c.missed) missed · \(c.replaced) replaced"
        if let last = report.lastIngested {
            let metric = lossMetric(report)
            let value = metric == "eval_loss" ? last.evalLoss : last.trainLoss
            let loss = value.map { " (\(metric) \(String(format: "%.6f", $0)))" } ?? ""
            text += " · last \(last.name) at \(last.ingested.map(time) ?? "?")\(loss)"
        }
        return text
    }

    /// The loss the run weighs by (`train_loss` or `eval_loss`), for the loss lines.
    private static func lossMetric(_ report: StatusReport) -> String {
        report.run?.settings.metric.rawValue ?? report.merge?.settings.metric.rawValue ?? "train_loss"
    }

    private static func value(_ point: StatusReport.LossPoint, _ metric: String) -> Double? {
        metric == "eval_loss" ? point.evalLoss : point.trainLoss
    }

    private static func memberTable(_ merge: StatusReport.Merge, words: any SettingsWords) -> [String] {
        // What the weighting used (ema: each member's age), where that is not the metric.
        let weighed = words.weighed(merge.settings, members: merge.members.map { ($0.name, $0.step, $0.metric) })
        let rows = [["step", "checkpoint", weighed?.title ?? merge.metric, "weight"]] + merge.members.enumerated().map { index, member in
            // A value logged before the member's own step says which step it is from.
            let step = member.metricStep.map { " (step \($0))" } ?? ""
            let cell = weighed?.values[index] ?? (member.metric.map { String(format: "%.6f", $0) } ?? "-") + step
            return ["\(member.step)", member.name, cell, String(format: "%.6f", member.weight)]
        }
        let lines = [weighed?.resolved, merge.report?.summary].compactMap { $0 }
        let bars = [""] + merge.members.map { Blocks.bar($0.weight, width: 40) }
        return table(rows, leftAligned: [1]).enumerated().map { index, text in
            bars[index].isEmpty ? text : "\(text)  \(bars[index])"
        } + lines
    }

    private static func allCheckpoints(_ rows: [StatusReport.Checkpoint], exportable: [Int64]) -> [String] {
        let cells = [["step", "checkpoint", "status", "train_loss", "eval_loss", "reason"]] + rows.map {
            ["\($0.step)", $0.name, $0.status, $0.trainLoss.map { String(format: "%.6f", $0) } ?? "-",
             $0.evalLoss.map { String(format: "%.6f", $0) } ?? "-", $0.reason ?? ""]
        }
        // What `mwad export` can write back: the checkpoints with a retained copy.
        let kept = exportable.map { "\($0)" }
        return table(cells, leftAligned: [1, 2, 5])
            + ["", kept.isEmpty ? "no retained copy to export" : "retained, for mwad export --step S: " + kept.joined(separator: ", ")]
    }

    /// Aligned columns: numbers right, `leftAligned` columns left.
    static func table(_ rows: [[String]], leftAligned: Set<Int>) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return leftAligned.contains(column) ? cell + pad : pad + cell
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
    }

    /// UTC, to the second, e.g. `2026-11-29 04:30:00Z`.
    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
        return formatter.string(from: date)
    }

    static func age(_ seconds: Double) -> String {
        switch seconds {
        case ..<90: "\(Int(seconds.rounded()))s"
        case ..<5400: "\(Int((seconds / 60).rounded()))m"
        default: "\(Int((seconds / 3600).rounded()))h"
        }
    }
}

extension HumanView {
    /// One row per ledger, for `mwad status` with no argument.
    public static func list(_ reports: [StatusReport]) -> String {
        let rows = [["ledger", "watching", "daemon", "last step", "merge"]] + reports.map { report in
            [report.ledger, report.run?.watch ?? "-", report.daemon.state.rawValue,
             report.lastIngested.map { "\($0.step)" } ?? "-",
             report.merge.map { "#\($0.id) at \(time($0.created))" } ?? "none"]
        }
        return table(rows, leftAligned: [0, 1, 2, 4]).joined(separator: "\n")
    }
}
