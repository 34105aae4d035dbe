import Foundation
import Ingest

/// Lower loss weighs more, with a strength that does not vanish when losses are close:
/// the window's best member weighs `ratio` times its worst, and the others in between
/// by where their loss lies (log-linear): log g_i = ln(ratio)·(L_max − L_i)/(L_max − L_min).
/// The power form L^(-p) gives weights within 2 % at p = 1 for real losses 3.475–3.556;
/// this one gives the same spread whatever the losses' level. Equal losses weigh equally.
public struct LossRangeWeighting: WeightingMethod {
    public static let description = WeightingDescription(
        name: "loss_range", help: "lower loss weighs more: the best member weighs `ratio` times the worst",
        parameters: [MergeParameter(name: "ratio", kind: .number(1...1e6), defaultValue: .number(4),
                                    help: "The weight of the window's lowest-loss member over its highest-loss member.", valueName: "R")],
        readsMetric: true, separable: false, formula: "log w_i = ln(ratio)·(L_max − L_i)/(L_max − L_min) + c",
        when: "loss weighting with a strength that does not vanish when losses are close"
    ) { values, metric in LossRangeWeighting(ratio: values.number("ratio"), metric: metric) }

    public var ratio: Double
    /// The logged value it weighs by (`merge.metric`).
    public var lossMetric: Metric
    public var metric: Metric? { lossMetric }
    public var name: String { "loss_range" }

    public init(ratio: Double, metric: Metric = .trainLoss) {
        self.ratio = ratio
        lossMetric = metric
    }

    public func weights(for candidates: [Candidate]) throws(WeighError) -> [Double] {
        var losses: [Double] = []
        for candidate in candidates { losses.append(try positiveMetric(candidate, lossMetric)) }
        guard let low = losses.min(), let high = losses.max() else { throw .noCheckpoints }
        let spread = high - low
        return try Self.normalised(logScores: losses.map { spread > 0 ? log(ratio) * (high - $0) / spread : 0 })
    }
}
