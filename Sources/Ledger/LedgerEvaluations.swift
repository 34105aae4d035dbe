import Foundation
import GRDB

extension Ledger {
    /// Records the evaluations of one window, in one transaction, marking the best
    /// (if any) and recording where it was published.
    @discardableResult
    public func record(evaluations: [EvaluationRecord], best: Int?, bestOutput: String?, at date: Date = Date()) throws(LedgerError) -> [EvaluationRecord] {
        try write { db in
            var saved: [EvaluationRecord] = []
            for (index, var evaluation) in evaluations.enumerated() {
                evaluation.best = index == best
                try evaluation.insert(db)
                saved.append(evaluation)
            }
            if let best, let bestOutput {
                try BestRecord(evaluationID: saved[best].id!, outputPath: bestOutput, publishedAt: date).upsert(db)
            }
            return saved
        }
    }
}
