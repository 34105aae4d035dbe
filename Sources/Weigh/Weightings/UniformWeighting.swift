import Ingest

/// Every member weighs the same: g_i = 1.
public struct UniformWeighting: SeparableWeighting {
    public static let description = WeightingDescription(
        name: "uniform", help: "every member weighs the same", readsMetric: false, separable: true,
        formula: "w_i = 1/N", when: "a baseline"
    ) { _, metric in UniformWeighting(metric: metric) }

    public var metric: Metric?
    public var name: String { "uniform" }

    public init(metric: Metric = .trainLoss) { self.metric = metric }

    public func logScore(of candidate: Candidate) throws(WeighError) -> Double { 0 }
}
