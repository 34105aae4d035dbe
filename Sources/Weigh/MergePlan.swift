import Ingest

/// One checkpoint chosen for a merge, with its metric and weight.
public struct PlannedMember: Sendable {
    public var checkpoint: Checkpoint
    /// The value of the plan's metric, nil when the checkpoint logged none.
    public var metricValue: Double?
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
        let candidates = ordered.map {
            Candidate(name: $0.name, step: $0.step, metricValue: $0.value(of: method.metric, smoothing: settings.smoothing))
        }
        let weights = try method.weights(for: candidates)
        self.settings = settings.effective
        self.weighting = method.name
        self.metric = method.metric
        self.members = zip(zip(ordered, candidates), weights).map {
            PlannedMember(checkpoint: $0.0, metricValue: $0.1.metricValue, weight: $1)
        }
    }

    /// The newest member, whose `adapter_config.json` the merge carries.
    public var newest: PlannedMember { members[members.count - 1] }
}
