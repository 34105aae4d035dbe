import Foundation
import Ingest

/// An exponential moving average over steps: w_i ∝ 2^(−(s_newest − s_i) / half_life),
/// the form torch `swa_utils` and diffusers `EMAModel` keep, as weights of a window.
/// A half-life of 0 takes two save intervals of the window (its median step spacing):
/// measured best on constant-learning-rate runs, and right whatever `save_steps` is.
public struct EMAWeighting: SeparableWeighting {
    public static let description = WeightingDescription(
        name: "ema", help: "an exponential moving average: weight halves every half_life steps back from the newest",
        parameters: [MergeParameter(name: "half_life", kind: .number(0...Double.greatestFiniteMagnitude), defaultValue: .number(0),
                                    help: "Steps over which a member's weight halves; 0 = two save intervals of the window.", valueName: "STEPS")],
        readsMetric: false, separable: true, formula: "w_i ∝ 2^(−(s_newest − s_i)/half_life)",
        when: "constant or high learning rate (measured best); with window all, a running EMA of the whole run"
    ) { values, _ in EMAWeighting(halfLife: values.number("half_life")) }

    public var halfLife: Double
    public var name: String { "ema" }
    public var metric: Metric? { nil }  // steps only

    public init(halfLife: Double) { self.halfLife = halfLife }

    /// A running sum needs a fixed half-life: an automatic one follows the window.
    public var isSeparable: Bool { halfLife > 0 }

    /// log g_i = s_i·ln 2 / half_life (the newest step's term cancels on normalising).
    public func logScore(of candidate: Candidate) throws(WeighError) -> Double {
        Double(candidate.step) * M_LN2 / halfLife
    }

    public func weights(for candidates: [Candidate]) throws(WeighError) -> [Double] {
        let life = halfLife > 0 ? halfLife : Self.autoHalfLife(candidates.map(\.step))
        guard let newest = candidates.map(\.step).max() else { throw .noCheckpoints }
        return try Self.normalised(logScores: candidates.map { -Double(newest - $0.step) * M_LN2 / life })
    }

    /// The age of each member in steps, and the half-life used for this window.
    public func weighed(_ candidates: [Candidate]) -> WeighedColumn? {
        let newest = candidates.map(\.step).max() ?? 0
        let life = halfLife > 0 ? "half_life \(MergeParameter.format(halfLife)) steps"
            : "half_life auto = \(MergeParameter.format(Self.autoHalfLife(candidates.map(\.step)))) steps (two save intervals)"
        return WeighedColumn(title: "age (steps)", values: candidates.map { "\(newest - $0.step)" }, resolved: life)
    }

    /// Two save intervals: twice the median spacing of the steps (1 step for one member).
    public static func autoHalfLife(_ steps: [Int64]) -> Double {
        let sorted = steps.sorted()
        let gaps = zip(sorted.dropFirst(), sorted).map { Double($0 - $1) }.filter { $0 > 0 }.sorted()
        guard !gaps.isEmpty else { return 1 }
        let median = gaps.count % 2 == 1 ? gaps[gaps.count / 2] : (gaps[gaps.count / 2 - 1] + gaps[gaps.count / 2]) / 2
        return 2 * median
    }
}
