/// The value a checkpoint is weighed by.
public enum Metric: String, Sendable, CaseIterable, Codable {
    /// Training `loss` logged at or before the checkpoint's step.
    case trainLoss = "train_loss"
    /// `eval_loss` logged at or before the checkpoint's step.
    case evalLoss = "eval_loss"
    /// The step itself.
    case step
}

extension TrainerState {
    /// The value of `metric` for the checkpoint at `step`: the last logged value whose
    /// step is at most `step` or, with `smoothing` K > 1, the mean of the last K such
    /// values. Nil when nothing was logged by then.
    public func value(of metric: Metric, atStep step: Int64, smoothing: Int = 1) -> Double? {
        let values: [Double]
        switch metric {
        case .step: return Double(step)
        case .trainLoss: values = logged(upTo: step) { $0.loss }
        case .evalLoss: values = logged(upTo: step) { $0.evalLoss }
        }
        let recent = values.suffix(max(1, smoothing))
        guard !recent.isEmpty else { return nil }
        return recent.reduce(0, +) / Double(recent.count)
    }

    private func logged(upTo step: Int64, _ pick: (LogEntry) -> Double?) -> [Double] {
        logHistory.compactMap { entry in
            guard let at = entry.step, at <= step else { return nil }
            return pick(entry)
        }
    }
}
