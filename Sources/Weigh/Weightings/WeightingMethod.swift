import Foundation
import Ingest

/// What a weighting sees of one checkpoint.
public struct Candidate: Sendable {
    public var name: String
    public var step: Int64
    /// The value of the weighting's ``WeightingMethod/metric``, nil when not logged.
    public var metricValue: Double?

    public init(name: String, step: Int64, metricValue: Double?) {
        self.name = name
        self.step = step
        self.metricValue = metricValue
    }
}

/// One way of weighing a window's members: normalised weights (sum 1), in the
/// members' order (oldest first).
public protocol WeightingMethod: Sendable {
    /// The name in settings, manifests and the ledger (`loss`, `ema`).
    var name: String { get }
    /// The metric the weighting reads; nil when it reads only steps.
    var metric: Metric? { get }
    /// The weights of `candidates` (oldest first); they sum to 1.
    func weights(for candidates: [Candidate]) throws(WeighError) -> [Double]
    /// What the weighting weighed each member by, where that is not its metric value
    /// (ema: the age in steps), and the parameters it resolved (`half_life auto = 20
    /// steps`): what the members' tables show. Nil: the metric value is what it used.
    func weighed(_ candidates: [Candidate]) -> WeighedColumn?
}


extension WeightingMethod {
    public func weighed(_ candidates: [Candidate]) -> WeighedColumn? {
        // A weighting that reads only steps: the step, as a step (not 60.000000).
        metric == nil ? WeighedColumn(title: "step", values: candidates.map { "\($0.step)" }, resolved: nil) : nil
    }
}

/// A weighting whose unnormalised weight g_i depends on member i alone, so that
/// w_i = g_i / Σ_j g_j and a running sum Σ g_i·θ_i can follow the window
/// (``WindowSum``). It gives log g_i: normalising in log space cannot overflow.
public protocol SeparableWeighting: WeightingMethod {
    /// log g_i for `candidate`, or an error naming it when its metric is unusable.
    func logScore(of candidate: Candidate) throws(WeighError) -> Double
    /// False where this instance cannot give log g_i alone (an automatic EMA half-life).
    var isSeparable: Bool { get }
}

extension SeparableWeighting {
    public var isSeparable: Bool { true }

    public func weights(for candidates: [Candidate]) throws(WeighError) -> [Double] {
        var scores: [Double] = []
        for candidate in candidates { scores.append(try logScore(of: candidate)) }
        return try Self.normalised(logScores: scores)
    }
}

extension WeightingMethod {
    /// exp(score_i) / Σ exp(score_j), computed without overflow.
    public static func normalised(logScores scores: [Double]) throws(WeighError) -> [Double] {
        guard let top = scores.max() else { throw .noCheckpoints }
        let unnormalised = scores.map { exp($0 - top) }
        let total = unnormalised.reduce(0, +)
        return unnormalised.map { $0 / total }
    }
}

/// A weighting as the registry (``Weightings``) knows it: its name, one line of help,
/// the parameters it declares, whether it reads a loss, and how to make it.
public struct WeightingDescription: Sendable {
    public let name: String
    public let help: String
    public let parameters: [MergeParameter]
    /// Whether the weighting reads `merge.metric` (else only steps or positions).
    public let readsMetric: Bool
    /// Whether g_i depends on member i alone (``SeparableWeighting``): the daemon may
    /// then keep the window as a running sum, and `window: all` is possible.
    public let separable: Bool
    /// The weights as a formula (`w_i ∝ L_i^(−p)`), for the docs' tables.
    public let formula: String
    /// When to use it, in a phrase, for the README's table.
    public let when: String
    /// The weighting for these (already validated, defaults filled in) values.
    public let make: @Sendable (_ parameters: ParameterValues, _ metric: Metric) -> any WeightingMethod

    public init(name: String, help: String, parameters: [MergeParameter] = [], readsMetric: Bool, separable: Bool,
                formula: String = "", when: String = "",
                make: @escaping @Sendable (_ parameters: ParameterValues, _ metric: Metric) -> any WeightingMethod) {
        self.name = name
        self.help = help
        self.formula = formula
        self.when = when
        self.parameters = parameters
        self.readsMetric = readsMetric
        self.separable = separable
        self.make = make
    }
}

/// The metric of `candidate`, checked usable for a power weighting.
func positiveMetric(_ candidate: Candidate, _ metric: Metric) throws(WeighError) -> Double {
    guard let value = candidate.metricValue else { throw .missingMetric(checkpoint: candidate.name, metric: metric) }
    guard value.isFinite, value > 0 else {
        throw .invalidMetric(checkpoint: candidate.name, metric: metric, value: value)
    }
    return value
}

/// The shared declaration of `penalty` (loss and step weighting: one parameter, one name).
public let penaltyParameter = MergeParameter(
    name: "penalty", kind: .number(0...Double.greatestFiniteMagnitude), defaultValue: .number(1),
    help: "The penalty factor p >= 0; 0 means uniform.", valueName: "P")
