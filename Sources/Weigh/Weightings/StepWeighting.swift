import Foundation
import Ingest

/// Later steps weigh more: g_i = s_i^p.
public struct StepWeighting: SeparableWeighting {
    public static let description = WeightingDescription(
        name: "step", help: "later steps weigh more", parameters: [penaltyParameter],
        readsMetric: false, separable: true, formula: "w_i ∝ s_i^p", when: "a mild tilt to the newest"
    ) { values, _ in StepWeighting(penalty: values.number("penalty")) }

    public var penalty: Double
    public var name: String { "step" }
    public var metric: Metric? { nil }  // steps only

    public init(penalty: Double) { self.penalty = penalty }

    public func logScore(of candidate: Candidate) throws(WeighError) -> Double {
        let step = Double(candidate.step)
        guard step > 0 else { throw .invalidStep(checkpoint: candidate.name, step: step) }
        return penalty * log(step)
    }
}
