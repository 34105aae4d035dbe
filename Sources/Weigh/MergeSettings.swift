import Ingest

/// The weighting a user names in config or on the command line.
public enum WeightingKind: String, Sendable, CaseIterable, Codable {
    case loss, step, uniform
}

/// How a merge is chosen and weighed: the last `window` checkpoints, weighed by
/// `weighting` with penalty factor `penalty`.
public struct MergeSettings: Sendable, Equatable, Codable {
    public var window: Int
    public var weighting: WeightingKind
    public var penalty: Double
    /// The loss metric read for `loss` weighting (and shown for the others).
    public var metric: Metric
    /// Mean of the last K logged values (1: the last value alone).
    public var smoothing: Int

    public init(window: Int = 5, weighting: WeightingKind = .loss, penalty: Double = 1.0,
                metric: Metric = .trainLoss, smoothing: Int = 1) {
        self.window = window
        self.weighting = weighting
        self.penalty = penalty
        self.metric = metric
        self.smoothing = smoothing
    }

    /// The method these settings name; a zero penalty is uniform whatever the kind.
    public func method() throws(WeighError) -> any WeightingMethod {
        guard penalty.isFinite, penalty >= 0 else { throw .invalidPenalty(penalty) }
        if penalty == 0 { return UniformWeighting(metric: metric) }
        switch weighting {
        case .loss: return LossWeighting(penalty: penalty, metric: metric)
        case .step: return StepWeighting(penalty: penalty)
        case .uniform: return UniformWeighting(metric: metric)
        }
    }
}
