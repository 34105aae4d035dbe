import Ingest
import Weigh

/// One checkpoint chosen for a merge, with its metric and weight.
public struct PlannedMember: Sendable {
    /// The checkpoint as read; nil for a member of a running average (`window: all`)
    /// whose copy was deleted once it was folded into the saved sum.
    public var checkpoint: Checkpoint?
    public var name: String
    public var step: Int64
    /// The trainer's folder it came from.
    public var source: String
    /// The ledger row of a member that is not read (`checkpoint` nil).
    public var recordID: Int64?
    /// The value of the plan's metric, nil when the checkpoint logged none.
    public var metricValue: Double?
    /// The step that value was logged at, where it is earlier than the checkpoint's
    /// (an eval every 20 steps, a save every 10: checkpoint 50 weighs by step 40's).
    public var metricStep: Int64?
    public var weight: Double

    public init(checkpoint: Checkpoint?, name: String, step: Int64, source: String, recordID: Int64? = nil, metricValue: Double?,
                metricStep: Int64? = nil, weight: Double) {
        self.checkpoint = checkpoint
        self.name = name
        self.step = step
        self.source = source
        self.recordID = recordID
        self.metricValue = metricValue
        self.metricStep = metricStep
        self.weight = weight
    }
}

/// What a merge will be made of: members in step order and their weights (sum 1).
public struct MergePlan: Sendable {
    public var settings: MergeSettings
    /// The name of the weighting actually applied (`uniform` when p = 0).
    public var weighting: String
    /// The metric shown next to each member; nil: the weighting reads steps only.
    public var metric: Metric?
    /// Its name in manifests and the log: `train_loss`, `eval_loss`, or `step`.
    public var metricName: String { Metric.name(metric) }
    public var members: [PlannedMember]

    /// Weighs `checkpoints` (already the window) with `settings`, by `weighting` where
    /// the caller built it once for these settings (else it is built here).
    public init(checkpoints: [Checkpoint], settings: MergeSettings, weighting: (any WeightingMethod)? = nil) throws(WeighError) {
        try settings.validate()
        let method: any WeightingMethod
        if let weighting { method = weighting } else { method = try settings.weightingMethod() }
        let ordered = checkpoints.sorted { $0.step < $1.step }
        let logged = ordered.map { $0.logged(method.metric, smoothing: settings.smoothing) }
        let candidates = zip(ordered, logged).map { Candidate(name: $0.name, step: $0.step, metricValue: $1?.value) }
        let weights = try method.weights(for: candidates)
        self.settings = settings.effective
        self.weighting = method.name
        self.metric = method.metric
        self.members = zip(zip(ordered, logged), weights).map { pair, weight in
            let (checkpoint, logged) = pair
            return PlannedMember(checkpoint: checkpoint, name: checkpoint.name, step: checkpoint.step, source: checkpoint.ref.source,
                                 metricValue: logged?.value, metricStep: logged.flatMap { $0.step < checkpoint.step ? $0.step : nil },
                                 weight: weight)
        }
    }

    /// A plan whose members are given, weighed already (a running average's: its
    /// weights come from the saved sum's scores).
    public init(settings: MergeSettings, weighting: String, metric: Metric?, members: [PlannedMember]) {
        self.settings = settings.effective
        self.weighting = weighting
        self.metric = metric
        self.members = members
    }

    /// The newest member, whose `adapter_config.json` the merge carries (always read).
    public var newest: PlannedMember { members[members.count - 1] }

    /// The newest member's checkpoint.
    public var newestCheckpoint: Checkpoint { newest.checkpoint! }
}
