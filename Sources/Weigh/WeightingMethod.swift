import Foundation
import Ingest

/// What a weighting method sees of one checkpoint.
public struct Candidate: Sendable {
    public var name: String
    public var step: Int64
    /// The value of the method's ``WeightingMethod/metric``, nil when not logged.
    public var metricValue: Double?

    public init(name: String, step: Int64, metricValue: Double?) {
        self.name = name
        self.step = step
        self.metricValue = metricValue
    }
}

/// One way of turning a checkpoint into its unnormalised MWA weight g_i.
///
/// g_i depends on checkpoint i alone, so weights are w_i = g_i / Σ_j g_j. Methods give
/// log g_i: normalising in log space cannot overflow however large the penalty.
public protocol WeightingMethod: Sendable {
    /// The name written into provenance (`loss`, `step`, `uniform`).
    var name: String { get }
    /// The metric the method reads.
    var metric: Metric { get }
    /// log g_i for `candidate`, or an error naming it when its metric is unusable.
    func logScore(of candidate: Candidate) throws(WeighError) -> Double
}

extension WeightingMethod {
    /// Normalised weights for `candidates`, in their order; they sum to 1.
    public func weights(for candidates: [Candidate]) throws(WeighError) -> [Double] {
        guard !candidates.isEmpty else { throw .noCheckpoints }
        var scores: [Double] = []
        for candidate in candidates { scores.append(try logScore(of: candidate)) }
        let top = scores.max()!
        let unnormalised = scores.map { exp($0 - top) }
        let total = unnormalised.reduce(0, +)
        return unnormalised.map { $0 / total }
    }
}

/// Lower loss weighs more: g_i = L_i^(-p).
public struct LossWeighting: WeightingMethod {
    public var penalty: Double
    public var metric: Metric
    public var name: String { "loss" }

    public init(penalty: Double, metric: Metric = .trainLoss) {
        self.penalty = penalty
        self.metric = metric
    }

    public func logScore(of candidate: Candidate) throws(WeighError) -> Double {
        -penalty * log(try positiveMetric(candidate, metric))
    }
}

/// Later steps weigh more: g_i = s_i^p.
public struct StepWeighting: WeightingMethod {
    public var penalty: Double
    public var name: String { "step" }
    public var metric: Metric { .step }

    public init(penalty: Double) { self.penalty = penalty }

    public func logScore(of candidate: Candidate) throws(WeighError) -> Double {
        let step = Double(candidate.step)
        guard step > 0 else { throw .invalidMetric(checkpoint: candidate.name, metric: .step, value: step) }
        return penalty * log(step)
    }
}

/// Every member weighs the same: g_i = 1 (also what p = 0 gives).
public struct UniformWeighting: WeightingMethod {
    public var metric: Metric
    public var name: String { "uniform" }

    public init(metric: Metric = .trainLoss) { self.metric = metric }

    public func logScore(of candidate: Candidate) throws(WeighError) -> Double { 0 }
}

/// The metric of `candidate`, checked usable for a power weighting.
private func positiveMetric(_ candidate: Candidate, _ metric: Metric) throws(WeighError) -> Double {
    guard let value = candidate.metricValue else { throw .missingMetric(checkpoint: candidate.name, metric: metric) }
    guard value.isFinite, value > 0 else {
        throw .invalidMetric(checkpoint: candidate.name, metric: metric, value: value)
    }
    return value
}
