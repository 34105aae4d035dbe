import Ingest
import Weigh

/// One checkpoint chosen for a merge, with its metric and weight.
public struct PlannedMember: Sendable {
    public var checkpoint: Checkpoint
    /// The value of the plan's metric, nil when the checkpoint logged none.
    public var metricValue: Double?
    /// The step that value was logged at, where it is earlier than the checkpoint's
    /// (an eval every 20 steps, a save every 10: checkpoint 50 weighs by step 40's).
    public var metricStep: Int64?
    public var weight: Double
}

/// What a merge will be made of: members in step order and their weights (sum 1).
public struct MergePlan: Sendable {
    public var settings: MergeSettings
    /// The name of the weighting actually applied (`uniform` when p = 0).
    public var weighting: String
    /// The metric shown next to each member.
    public var metric: Metric
    public var members: [PlannedMember]

    /// Weighs `checkpoints` (already the window) with `settings`.
    public init(checkpoints: [Checkpoint], settings: MergeSettings) throws(WeighError) {
        try settings.validate()
        let method = try settings.weightingMethod()
        let ordered = checkpoints.sorted { $0.step < $1.step }
        let logged = ordered.map { $0.logged(method.metric, smoothing: settings.smoothing) }
        let candidates = zip(ordered, logged).map { Candidate(name: $0.name, step: $0.step, metricValue: $1?.value) }
        let weights = try method.weights(for: candidates)
        self.settings = settings.effective
        self.weighting = method.name
        self.metric = method.metric
        self.members = zip(zip(ordered, logged), weights).map { pair, weight in
            let (checkpoint, logged) = pair
            return PlannedMember(checkpoint: checkpoint, metricValue: logged?.value,
                                 metricStep: logged.flatMap { $0.step < checkpoint.step ? $0.step : nil }, weight: weight)
        }
    }

    /// The newest member, whose `adapter_config.json` the merge carries.
    public var newest: PlannedMember { members[members.count - 1] }
}
