import Foundation
import Ledger
import Settings
import Weigh

extension StatusReport {
    /// One evaluation of a window's adapter.
    public struct Evaluation: Codable, Sendable {
        public var id: Int64
        /// `merge`, `checkpoint` or `candidate`.
        public var target: String
        public var mergeId: Int64
        public var step: Int64
        /// A candidate's settings.
        public var settings: MergeSettings?
        public var metric: String
        public var goal: String
        public var value: Double?
        /// `ok` or `failed`.
        public var status: String
        public var error: String?
        public var exitStatus: Int32?
        public var started: Date
        public var durationSeconds: Double
        /// The difference to the window's newest checkpoint, in percent of its score.
        public var vsCheckpointPercent: Double?
        public var best: Bool
    }

    /// How the evaluated windows went over the run.
    public struct EvaluationSummary: Codable, Sendable {
        /// Windows where both the merge and the newest checkpoint were scored.
        public var windows: Int
        /// Of those, where the merge scored better than the newest checkpoint.
        public var mergeBetter: Int
        /// Of those, where the merge and the newest checkpoint scored the same (a
        /// one-member window's merge is its checkpoint): neither a win nor a loss.
        public var mergeTied: Int?
        /// Mean of (merge − checkpoint) / |checkpoint| × 100 over those windows.
        public var meanDeltaPercent: Double?
        /// How often each adapter scored best: `merge`, `checkpoint`, or a candidate's
        /// settings; `tie` where the best score was shared.
        public var wins: [String: Int]
    }

    /// The adapter published as the best.
    public struct Best: Codable, Sendable {
        public var target: String
        public var what: String
        public var mergeId: Int64
        public var step: Int64
        public var settings: MergeSettings?
        public var metric: String
        public var value: Double?
        public var output: String
        public var published: Date
        /// How fresh it is: the run's newest step, the saves ingested after the best's
        /// window, and the merges published since that were not evaluated.
        public var runNewestStep: Int64?
        public var savesBehind: Int?
        public var windowsSkippedSince: Int?

        /// More saves behind than this and the human view warns.
        public static let staleAfter = 5
    }
}

extension StatusReport.Evaluation {
    init(_ record: EvaluationRecord, checkpoint: Double?) {
        self.init(id: record.id ?? 0, target: record.target.rawValue, mergeId: record.mergeID, step: record.step,
                  settings: record.settings, metric: record.metric, goal: record.goal, value: record.value,
                  status: record.status.rawValue, error: record.error, exitStatus: record.exitStatus, started: record.startedAt,
                  durationSeconds: record.durationSeconds,
                  vsCheckpointPercent: record.target == .checkpoint ? nil : Self.percent(record.value, checkpoint),
                  best: record.best)
    }

    static func percent(_ value: Double?, _ checkpoint: Double?) -> Double? {
        guard let value, let checkpoint, checkpoint != 0 else { return nil }
        return (value - checkpoint) / abs(checkpoint) * 100
    }
}

enum EvaluationDigest {
    /// The latest evaluated window's evaluations (every one with `all`), the run's
    /// summary, and the best adapter published.
    static func make(_ snapshot: LedgerSnapshot, all: Bool)
        -> (evaluations: [StatusReport.Evaluation], summary: StatusReport.EvaluationSummary?, best: StatusReport.Best?) {
        let records = snapshot.evaluations
        guard let last = records.last else { return ([], nil, nil) }
        let windows = Dictionary(grouping: records, by: \.mergeID)
        func checkpoint(_ merge: Int64) -> Double? { windows[merge]?.first { $0.target == .checkpoint }?.value }
        let shown = all ? records : records.filter { $0.mergeID == last.mergeID }
        let evaluations = shown.map { StatusReport.Evaluation($0, checkpoint: checkpoint($0.mergeID)) }
        var compared = 0, better = 0, tied = 0, deltas: [Double] = []
        var wins: [String: Int] = [:]
        for (_, window) in windows {
            if let merge = window.first(where: { $0.target == .merge }), let newest = window.first(where: { $0.target == .checkpoint }),
               merge.value != nil, newest.value != nil {
                compared += 1
                if merge.isBetter(than: newest) { better += 1 }
                if merge.value == newest.value { tied += 1 }
                if let delta = StatusReport.Evaluation.percent(merge.value, newest.value) { deltas.append(delta) }
            }
            if let winner = window.first(where: \.best) {
                // A best score the newest checkpoint shares is no win over it.
                let shared = winner.target != .checkpoint && window.contains { $0.target == .checkpoint && $0.value == winner.value }
                wins[shared ? "tie" : winner.target == .candidate ? winner.label : winner.target.rawValue, default: 0] += 1
            }
        }
        let summary = StatusReport.EvaluationSummary(windows: compared, mergeBetter: better, mergeTied: tied,
                                                     meanDeltaPercent: deltas.isEmpty ? nil : deltas.reduce(0, +) / Double(deltas.count),
                                                     wins: wins)
        let best = snapshot.best.flatMap { best in records.first { $0.id == best.evaluationID }.map { record in
            let read = snapshot.checkpoints.filter { $0.status == .ingested || $0.status == .evicted }
            let evaluated = Set(snapshot.evaluations.map(\.mergeID))
            return StatusReport.Best(target: record.target.rawValue, what: record.label, mergeId: record.mergeID, step: record.step,
                                     settings: record.settings, metric: record.metric, value: record.value, output: best.outputPath,
                                     published: best.publishedAt, runNewestStep: read.map(\.step).max(),
                                     savesBehind: read.filter { $0.step > record.step }.count,
                                     windowsSkippedSince: max(0, Int((snapshot.merge?.id ?? record.mergeID) - record.mergeID)
                                                                 - evaluated.filter { $0 > record.mergeID }.count))
        } }
        return (evaluations, summary, best)
    }
}
