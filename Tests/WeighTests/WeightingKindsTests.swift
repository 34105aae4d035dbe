import Foundation
import Testing
import Weigh

/// ema, schedule, loss_range and the window kinds against hand-computed values.
@Suite struct WeightingKindsTests {
    func at(_ steps: [Int64], _ losses: [Double]? = nil) -> [Candidate] {
        steps.enumerated().map { Candidate(name: "checkpoint-\($1)", step: $1, metricValue: losses?[$0]) }
    }

    func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-12) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    @Test func emaHalvesEveryHalfLife() throws {
        // half-life 20: steps 40, 60, 80 → 1/4, 1/2, 1 before normalising (sum 7/4).
        let weights = try EMAWeighting(halfLife: 20).weights(for: at([40, 60, 80]))
        #expect(close(weights, [1.0 / 7, 2.0 / 7, 4.0 / 7]))
        // The running-sum form gives the same weights.
        let scores = try at([40, 60, 80]).map { try EMAWeighting(halfLife: 20).logScore(of: $0) }
        #expect(close(try EMAWeighting.normalised(logScores: scores), weights))
    }

    @Test func emaAutoHalfLifeIsTwoSaves() throws {
        #expect(EMAWeighting.autoHalfLife([10, 20, 30, 40]) == 20)
        #expect(EMAWeighting.autoHalfLife([100, 150, 200, 300]) == 100)  // median spacing 50
        #expect(close(try EMAWeighting(halfLife: 0).weights(for: at([10, 20, 30])), try EMAWeighting(halfLife: 20).weights(for: at([10, 20, 30]))))
        #expect(!EMAWeighting(halfLife: 0).isSeparable && EMAWeighting(halfLife: 5).isSeparable)
    }

    @Test func scheduleLinearIsTheAverage() throws {
        #expect(close(try ScheduleWeighting(shape: "linear").weights(for: at([1, 2, 3, 4])), [0.25, 0.25, 0.25, 0.25]))
    }

    @Test func scheduleCosineByHand() throws {
        // n = 4: m_i = (1 + cos(π(i−1)/4))/2 for i = 1…5 → 1, 0.853553, 0.5, 0.146447, 0.
        let w = try ScheduleWeighting(shape: "cosine").weights(for: at([1, 2, 3, 4]))
        let m = [1, (1 + cos(Double.pi / 4)) / 2, 0.5, (1 + cos(3 * Double.pi / 4)) / 2, 0]
        #expect(close(w, (0..<4).map { m[$0] - m[$0 + 1] }))
        #expect(abs(w.reduce(0, +) - 1) < 1e-15)
        #expect(w[1] > w[0] && w[2] > w[3], "cosine weighs the middle most")
    }

    @Test func scheduleInverseSqrtWeighsTheOldestMost() throws {
        let w = try ScheduleWeighting(shape: "inverse-sqrt").weights(for: at([1, 2, 3]))
        let end = 1 / 2.0  // 1/√4
        let m = [1.0, 2.0.squareRoot(), 3.0.squareRoot(), 2.0].map { (1 / $0 - end) / (1 - end) }
        #expect(close(w, [m[0] - m[1], m[1] - m[2], m[2] - m[3]]))
        #expect(w[0] > w[1] && w[1] > w[2])
    }

    @Test func lossRangeGivesTheBestMemberRatioTimesTheWorst() throws {
        // Real losses 3.475–3.556: the power form at p = 1 is within 2 %; this is 4×.
        let w = try LossRangeWeighting(ratio: 4).weights(for: at([10, 20, 30], [3.556, 3.5155, 3.475]))
        #expect(abs(w[2] / w[0] - 4) < 1e-12 && abs(w[1] / w[0] - 2) < 1e-12)
        let power = try LossWeighting(penalty: 1).weights(for: at([10, 20, 30], [3.556, 3.5155, 3.475]))
        #expect(power[2] / power[0] < 1.03)
        #expect(close(try LossRangeWeighting(ratio: 4).weights(for: at([10, 20], [3.5, 3.5])), [0.5, 0.5]))
    }

    @Test func windowsSelectByCountStepsAndStride() {
        let steps: [Int64] = [10, 20, 30, 40, 50, 60, 70, 80]
        #expect(WindowSpec(count: 3).select(steps) == [5, 6, 7])
        #expect(WindowSpec(count: nil).select(steps) == Array(0..<8))
        #expect(WindowSpec(count: nil, steps: 25).select(steps) == [5, 6, 7])  // steps ≥ 55
        #expect(WindowSpec(count: 2, steps: 25).select(steps) == [6, 7])
        #expect(WindowSpec(count: 3, stride: 2).select(steps) == [3, 5, 7])  // 80, 60, 40
        #expect(WindowSpec(count: nil, steps: 40, stride: 3).select(steps) == [4, 7])  // 80, 50; 40 is out
        #expect(WindowSpec(count: 5).select([]) == [])
        #expect(WindowSpec(count: 3, steps: 100, stride: 2).summary == "the last 3 within 100 steps, every 2nd")
    }
}
