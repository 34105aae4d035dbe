import Foundation
import Ingest

/// Lower loss weighs more: g_i = L_i^(-p) (the MWA paper's power form).
public struct LossWeighting: SeparableWeighting {
    public static let description = WeightingDescription(
        name: "loss", help: "lower loss weighs more", parameters: [penaltyParameter],
        readsMetric: true, separable: true, formula: "w_i ∝ L_i^(−p), the MWA paper's power form",
        when: "losses that differ a lot (close losses give near-uniform weights)"
    ) { values, metric in LossWeighting(penalty: values.number("penalty"), metric: metric) }

    public var penalty: Double
    /// The logged value it weighs by (`merge.metric`).
    public var lossMetric: Metric
    public var metric: Metric? { lossMetric }
    public var name: String { "loss" }

    public init(penalty: Double, metric: Metric = .trainLoss) {
        self.penalty = penalty
        lossMetric = metric
    }

    public func logScore(of candidate: Candidate) throws(WeighError) -> Double {
        -penalty * log(try positiveMetric(candidate, lossMetric))
    }
}
