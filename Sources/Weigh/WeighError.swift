import Ingest

/// Why weights could not be computed.
public enum WeighError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The checkpoint logged no value of the metric at or before its step.
    case missingMetric(checkpoint: String, metric: Metric)
    /// The metric is NaN, infinite, zero or negative, which no power weighting admits.
    case invalidMetric(checkpoint: String, metric: Metric, value: Double)
    /// A step of 0 or below, which a weighting by step (w ∝ step^p) cannot take.
    case invalidStep(checkpoint: String, step: Double)
    /// Nothing to weigh.
    case noCheckpoints
    /// A setting out of its range: its name, the value, what is allowed.
    case invalidSetting(name: String, value: String, allowed: String)

    public var description: String {
        switch self {
        case .missingMetric(let checkpoint, let metric):
            "\(checkpoint): no \(metric.rawValue) logged at or before its step"
                + " (log more often than you save: logging_steps at most save_steps, or eval_steps for eval_loss)"
        case .invalidMetric(let checkpoint, let metric, let value):
            "\(checkpoint): \(metric.rawValue) is \(value); MWA weights need a finite value above 0"
        case .invalidStep(let checkpoint, let step):
            "\(checkpoint): step is \(step); MWA weights need a finite value above 0"
        case .noCheckpoints: "no complete checkpoint to merge"
        case .invalidSetting(let name, let value, let allowed): "\(name) \(value) is invalid: it must be \(allowed)"
        }
    }
}
