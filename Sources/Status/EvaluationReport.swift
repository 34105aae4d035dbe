import Foundation
import Ledger
import SettingsValue

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
        /// Windows where both the merge and the newest checkpoint were scored, and
        /// differ: a window whose merge scored exactly its checkpoint's score (one
        /// member: the merge is its checkpoint) is not counted.
        public var windows: Int
        /// Of those, where the merge scored better than the newest checkpoint.
        public var mergeBetter: Int
        /// Windows whose merge scored exactly as the newest checkpoint (left out above).
        public var mergeTied: Int?
        /// Mean of (merge − checkpoint) / |checkpoint| × 100 over those windows.
        public var meanDeltaPercent: Double?
        /// The steps those windows cover (their newest members').
        public var fromStep: Int64?
        public var toStep: Int64?
        /// The same over the last quarter of those steps (late windows tell most).
        public var lastQuarter: Quarter?

        public struct Quarter: Codable, Sendable {
            public var fromStep: Int64
            public var windows: Int
            public var mergeBetter: Int
            public var meanDeltaPercent: Double?
        }
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

        /// More saves behind than this and the human view warns (`eval.stale_after`).
        public var staleAfter: Int?
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
    static func make(_ snapshot: LedgerSnapshot, all: Bool, words: any SettingsWords)
        -> (evaluations: [StatusReport.Evaluation], summary: StatusReport.EvaluationSummary?, best: StatusReport.Best?) {
        // In window order: `mwad eval` records older windows after the run.
        let records = snapshot.evaluations.sorted { ($0.mergeID, $0.id ?? 0) < ($1.mergeID, $1.id ?? 0) }
        guard let last = records.last else { return ([], nil, nil) }
        let windows = Dictionary(grouping: records, by: \.mergeID)
        func checkpoint(_ merge: Int64) -> Double? { windows[merge]?.first { $0.target == .checkpoint }?.value }
        let shown = all ? records : records.filter { $0.mergeID == last.mergeID }
        let evaluations = shown.map { StatusReport.Evaluation($0, checkpoint: checkpoint($0.mergeID)) }
        var tied = 0
        var compared: [(step: Int64, better: Bool, delta: Double?)] = []
        var wins: [String: Int] = [:]
        for (_, window) in windows {
            if let merge = window.first(where: { $0.target == .merge }), let newest = window.first(where: { $0.target == .checkpoint }),
               merge.value != nil, newest.value != nil {
                if merge.value == newest.value {
                    tied += 1
                } else {
                    compared.append((merge.step, merge.isBetter(than: newest), StatusReport.Evaluation.percent(merge.value, newest.value)))
                }
            }
            if let winner = window.first(where: \.best) {
                // A best score the newest checkpoint shares is no win over it.
                let shared = winner.target != .checkpoint && window.contains { $0.target == .checkpoint && $0.value == winner.value }
                wins[shared ? "tie" : winner.target == .candidate ? winner.label(brief: words.brief) : winner.target.rawValue, default: 0] += 1
            }
        }
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        let firstStep = compared.map(\.step).min(), lastStep = compared.map(\.step).max()
        var quarter: StatusReport.EvaluationSummary.Quarter?
        if let firstStep, let lastStep {
            let from = lastStep - (lastStep - firstStep) / 4
            let late = compared.filter { $0.step >= from }
            quarter = .init(fromStep: from, windows: late.count, mergeBetter: late.filter { $0.better }.count,
                            meanDeltaPercent: mean(late.compactMap { $0.delta }))
        }
        let summary = StatusReport.EvaluationSummary(windows: compared.count, mergeBetter: compared.filter { $0.better }.count, mergeTied: tied,
                                                     meanDeltaPercent: mean(compared.compactMap { $0.delta }),
                                                     fromStep: firstStep, toStep: lastStep, lastQuarter: quarter, wins: wins)
        let best = snapshot.best.flatMap { best in records.first { $0.id == best.evaluationID }.map { record in
            let read = snapshot.checkpoints.filter { $0.status == .ingested || $0.status == .evicted }
            let evaluated = Set(snapshot.evaluations.map(\.mergeID))
            return StatusReport.Best(target: record.target.rawValue, what: record.label(brief: words.brief), mergeId: record.mergeID, step: record.step,
                                     settings: record.settings, metric: record.metric, value: record.value, output: best.outputPath,
                                     published: best.publishedAt, runNewestStep: read.map(\.step).max(),
                                     savesBehind: read.filter { $0.step > record.step }.count,
                                     windowsSkippedSince: max(0, Int((snapshot.merge?.id ?? record.mergeID) - record.mergeID)
                                                                 - evaluated.filter { $0 > record.mergeID }.count),
                                     staleAfter: RunEvaluation.decode(snapshot.run?.evaluation)?.staleAfter ?? RunEvaluation.defaultStaleAfter)
        } }
        return (evaluations, summary, best)
    }
}
