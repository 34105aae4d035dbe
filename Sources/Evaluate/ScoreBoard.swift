import Foundation
import Ledger
import Synchronization
import TensorBoard

/// mwad's own TensorBoard event file (`tensorboard.logdir`), so that the user sees
/// the merge next to the trainer's loss curve (and W&B users get it through
/// `wandb sync --sync-tensorboard`). Everything is logged at the step of the merge's
/// newest member, the x-axis of the trainer's own curves:
///
/// - per published merge: `mwad/merge/members`, `mwad/merge/newest_weight`, and a
///   text table `mwad/merge/weights` (each member's step and weight);
/// - per evaluated merge: `mwad/eval/merge`, `mwad/eval/newest_checkpoint`,
///   `mwad/eval/candidate_<k>` (the scores), `mwad/eval/merge_vs_newest_percent`,
///   `mwad/eval/best` (0 the merge, 1 the checkpoint, k + 1 candidate k) and a text
///   `mwad/eval/best_label` naming it.
///
/// The file is created at the first write; a failure to write is returned for the
/// caller to log, and never stops a merge.
public final class ScoreBoard: Sendable {
    private let folder: @Sendable () -> String
    private let writer = Mutex<EventWriter?>(nil)

    /// `directory` is asked at the first write (a layout decided by then may name it).
    public init(directory: @escaping @Sendable () -> String) {
        folder = directory
    }

    /// The path written to, once it exists.
    public var path: String? { writer.withLock { $0?.path } }

    /// Logs a published merge of `members` (name, step, weight; oldest first).
    public func merged(_ members: [(name: String, step: Int64, weight: Double)]) throws(TensorBoardError) {
        guard let newest = members.last else { return }
        let table = "| checkpoint | step | weight |\n| --- | --- | --- |\n"
            + members.map { "| \($0.name) | \($0.step) | \(String(format: "%.6f", $0.weight)) |" }.joined(separator: "\n")
        try write { writer throws(TensorBoardError) in
            try writer.scalars([("mwad/merge/members", Double(members.count)), ("mwad/merge/newest_weight", newest.weight)], step: newest.step)
            try writer.text("mwad/merge/weights", table, step: newest.step)
        }
    }

    /// Logs the scores of one evaluated merge: `results` as the worker made them (the
    /// merge, the newest checkpoint, then the candidates), `best` the index of the best.
    public func evaluated(_ results: [EvaluationRecord], best: Int?) throws(TensorBoardError) {
        guard let step = results.first?.step else { return }
        var scalars: [(tag: String, value: Double)] = []
        var candidate = 0
        for result in results {
            let tag: String
            switch result.target {
            case .merge: tag = "mwad/eval/merge"
            case .checkpoint: tag = "mwad/eval/newest_checkpoint"
            case .candidate:
                candidate += 1
                tag = "mwad/eval/candidate_\(candidate)"
            }
            if let value = result.value { scalars.append((tag, value)) }
        }
        if let merge = results.first(where: { $0.target == .merge })?.value,
           let newest = results.first(where: { $0.target == .checkpoint })?.value, newest != 0 {
            scalars.append(("mwad/eval/merge_vs_newest_percent", (merge - newest) / abs(newest) * 100))
        }
        if let best { scalars.append(("mwad/eval/best", Double(best))) }
        try write { writer throws(TensorBoardError) in
            if !scalars.isEmpty { try writer.scalars(scalars, step: step) }
            try writer.text("mwad/eval/best_label", best.map { results[$0].label } ?? "none: no adapter was scored", step: step)
        }
    }

    /// The trainer was run again into the directory from `step`: the earlier run's
    /// scores from `step` on are dropped by TensorBoard's reader.
    public func restarted(at step: Int64) throws(TensorBoardError) {
        try write { writer throws(TensorBoardError) in try writer.restart(at: step) }
    }

    private func write(_ body: (EventWriter) throws(TensorBoardError) -> Void) throws(TensorBoardError) {
        try writer.withLock { writer throws(TensorBoardError) in
            if writer == nil { writer = try EventWriter(directory: folder()) }
            try body(writer!)
        }
    }
}
