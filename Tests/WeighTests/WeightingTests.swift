import Ingest
import MWADTestKit
import Testing
import Settings
import Weigh

@Suite struct WeightingTests {
    func candidates(_ values: [Double?]) -> [Candidate] {
        values.enumerated().map { Candidate(name: "checkpoint-\(($0 + 1) * 10)", step: Int64(($0 + 1) * 10), metricValue: $1) }
    }

    /// The weights of every reference merge, from the real checkpoints' trainer state.
    @Test(arguments: Fixtures.referenceMerges)
    func matchesTheReferenceWeights(_ name: String) throws {
        let reference = try ReferenceWeights.load(name)
        let run = name.hasPrefix("f32") ? Fixtures.f32Run : Fixtures.bf16Run
        let checkpoints = try reference.checkpoints.map { try Checkpoint.load(folder: Fixtures.checkpoint(run, Int($0.step))) }
        let settings = MergeSettings(window: reference.window, weighting: reference.weighting,
                                     penalty: reference.weighting == "uniform" ? nil : reference.penalty, method: "linear")
        let plan = try MergePlan(checkpoints: checkpoints, settings: settings)
        #expect(plan.members.map(\.step) == reference.checkpoints.map(\.step))
        for (member, expected) in zip(plan.members, reference.checkpoints) {
            #expect(abs(member.weight - expected.weight) <= 1e-12)
        }
    }

    @Test func lossPowerForm() throws {
        let weights = try LossWeighting(penalty: 2).weights(for: candidates([1, 2]))
        // 1^-2 = 1 and 2^-2 = 1/4, normalised: 0.8 and 0.2.
        #expect(abs(weights[0] - 0.8) < 1e-15)
        #expect(abs(weights[1] - 0.2) < 1e-15)
    }

    @Test func stepPowerForm() throws {
        let weights = try StepWeighting(penalty: 1).weights(for: candidates([nil, nil, nil]))
        let expected: [Double] = [10.0 / 60, 20.0 / 60, 30.0 / 60]
        #expect(zip(weights, expected).allSatisfy { abs($0 - $1) < 1e-15 })
    }

    @Test func zeroPenaltyIsUniform() throws {
        let method = try MergeSettings(window: 5, weighting: "loss", penalty: 0).weightingMethod()
        #expect(method.name == "uniform")
        #expect(try method.weights(for: candidates([1, 5, nil, .nan])) == [0.25, 0.25, 0.25, 0.25])
    }

    @Test func hugePenaltyDoesNotOverflow() throws {
        let weights = try LossWeighting(penalty: 1000).weights(for: candidates([0.5, 0.6]))
        #expect(weights.allSatisfy { $0.isFinite })
        #expect(abs(weights.reduce(0, +) - 1) < 1e-15)
        #expect(weights[0] > 0.999)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity, 0, -1.5])
    func unusableLoss(_ value: Double) {
        // Compared as text: NaN is never equal to itself.
        let expected = WeighError.invalidMetric(checkpoint: "checkpoint-20", metric: .trainLoss, value: value)
        do {
            _ = try LossWeighting(penalty: 1).weights(for: candidates([1, value]))
            Issue.record("accepted a loss of \(value)")
        } catch {
            #expect(error.description == expected.description)
            #expect(error.description.contains("checkpoint-20: train_loss is \(value)"))
        }
    }

    @Test func missingLoss() {
        #expect(throws: WeighError.missingMetric(checkpoint: "checkpoint-10", metric: .evalLoss)) {
            _ = try LossWeighting(penalty: 1, metric: .evalLoss).weights(for: candidates([nil, 1]))
        }
    }

    @Test func stepZeroCannotBeWeighedByStep() {
        let zero = [Candidate(name: "checkpoint-0", step: 0, metricValue: 0)]
        #expect(throws: WeighError.invalidStep(checkpoint: "checkpoint-0", step: 0)) {
            _ = try StepWeighting(penalty: 1).weights(for: zero)
        }
        #expect("\(WeighError.invalidStep(checkpoint: "checkpoint-0", step: 0))" == "checkpoint-0: step is 0.0; MWA weights need a finite value above 0")
    }

    @Test(arguments: [-1.0, .nan, .infinity])
    func invalidPenalty(_ p: Double) {
        #expect(throws: WeighError.self) { _ = try MergeSettings(window: 5, weighting: "loss", penalty: p).weightingMethod() }
    }

    @Test func nothingToWeigh() {
        #expect(throws: WeighError.noCheckpoints) { _ = try UniformWeighting().weights(for: []) }
    }
}

