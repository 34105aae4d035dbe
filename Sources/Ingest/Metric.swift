/// A logged value a checkpoint can be weighed by. A weighting that reads only steps
/// reads no metric (`nil`): its value is the step itself.
public enum Metric: String, Sendable, CaseIterable, Codable {
    /// Training `loss` logged at or before the checkpoint's step.
    case trainLoss = "train_loss"
    /// `eval_loss` logged at or before the checkpoint's step.
    case evalLoss = "eval_loss"

    /// The name of what a weighting weighs by: the metric's, or `step` where it reads none.
    public static func name(_ metric: Metric?) -> String { metric?.rawValue ?? "step" }
}

extension TrainerState {
    /// The value of `metric` for the checkpoint at `step`: the last logged value whose
    /// step is at most `step` or, with `smoothing` K > 1, the mean of the last K such
    /// values. Nil when nothing was logged by then. No metric: the step itself.
    public func value(of metric: Metric?, atStep step: Int64, smoothing: Int = 1) -> Double? {
        let values: [Double]
        switch metric {
        case nil: return Double(step)
        case .trainLoss: values = logged(upTo: step) { $0.loss }
        case .evalLoss: values = logged(upTo: step) { $0.evalLoss }
        }
        let recent = values.suffix(max(1, smoothing))
        guard !recent.isEmpty else { return nil }
        return recent.reduce(0, +) / Double(recent.count)
    }

    /// The value of `metric` at `step` (as ``value(of:atStep:smoothing:)``) with the
    /// step it was logged at (the newest of the values averaged), so that a value
    /// taken from an earlier step can say so.
    public func logged(_ metric: Metric?, atStep step: Int64, smoothing: Int = 1) -> (value: Double, step: Int64)? {
        guard let metric else { return (Double(step), step) }
        guard let value = value(of: metric, atStep: step, smoothing: smoothing) else { return nil }
        let pick: (LogEntry) -> Double? = switch metric {
        case .trainLoss: { $0.loss }
        case .evalLoss: { $0.evalLoss }
        }
        let at = logHistory.last { entry in entry.step.map { $0 <= step } == true && pick(entry) != nil }?.step
        return (value, at ?? step)
    }

    private func logged(upTo step: Int64, _ pick: (LogEntry) -> Double?) -> [Double] {
        logHistory.compactMap { entry in
            guard let at = entry.step, at <= step else { return nil }
            return pick(entry)
        }
    }
}
