import Foundation
import Ingest

/// Coefficients that turn a window of constant-learning-rate checkpoints into what a
/// learning-rate decay over the window would have given (WSM, as Megatron-LM's
/// `weighted_merge.py` derives them).
///
/// With θ_j = θ_0 + Σ_{i≤j} u_i (u_i the update that made member i) the merge
/// Σ c_j·θ_j applies update i with the multiplier m_i = Σ_{j≥i} c_j. Choosing m as a
/// decay shape from m_1 = 1 down to m_{n+1} = 0 gives c_j = m_j − m_{j+1} ≥ 0,
/// Σ c_j = 1. Members are taken evenly spaced (by position in the window).
/// `linear` decay gives the plain average; `cosine` weighs the middle of the window
/// most; `inverse-sqrt` weighs the oldest most.
public struct ScheduleWeighting: WeightingMethod {
    public static let shapes = ["linear", "cosine", "inverse-sqrt"]

    public static let description = WeightingDescription(
        name: "schedule", help: "the coefficients of a learning-rate decay over the window (WSM)",
        parameters: [MergeParameter(name: "shape", kind: .choice(shapes), defaultValue: .text("cosine"),
                                    help: "The decay shape the merge stands in for: linear, cosine or inverse-sqrt.")],
        readsMetric: false, separable: false,
        formula: "w_j = m_j − m_{j+1}, m the decay shape over the n members by position (m_1 = 1, m_{n+1} = 0)",
        when: "a constant-learning-rate run you would otherwise anneal (shape linear is the plain average)"
    ) { values, _ in ScheduleWeighting(shape: values.text("shape")) }

    public var shape: String
    public var name: String { "schedule" }
    public var metric: Metric? { nil }  // steps only

    public init(shape: String) { self.shape = shape }

    public func weights(for candidates: [Candidate]) throws(WeighError) -> [Double] {
        guard !candidates.isEmpty else { throw .noCheckpoints }
        let n = candidates.count
        let m = (1...n + 1).map { multiplier(position: $0, of: n) }
        return (0..<n).map { m[$0] - m[$0 + 1] }
    }

    /// m_i for update i of n (1-based): 1 at i = 1, 0 at i = n + 1.
    func multiplier(position i: Int, of n: Int) -> Double {
        let t = Double(i - 1) / Double(n)  // 0 at the first update, 1 past the last
        switch shape {
        case "cosine": return 0.5 * (1 + cos(Double.pi * t))
        case "inverse-sqrt":
            let end = 1 / (Double(n + 1)).squareRoot()
            return (1 / Double(i).squareRoot() - end) / (1 - end)
        default: return 1 - t
        }
    }
}
