import Ingest

/// Everything that decides a merge's bytes, as one value: which checkpoints
/// (``window``), how they are weighed (``weighting``, ``metric``, ``smoothing``), how
/// their tensors are combined (``method``), and the parameters those two declare.
///
/// The daemon, `mwad merge`, candidates, the ledger and `mwad status` all pass this
/// value whole: it is stored whole on every merge row, and its ``fingerprint`` alone
/// decides whether the published merge was made with the settings in force. A new
/// weighting's or method's parameter needs no field here: it is declared by its owner
/// and carried in ``parameters``.
public struct MergeSettings: Sendable, Equatable, Hashable {
    public var window: WindowSpec
    /// A weighting's name in the ``Catalog``.
    public var weighting: String
    /// The loss metric read by a weighting that reads one (and shown for the others).
    public var metric: Metric
    /// Mean of the last K logged values (1: the last value alone).
    public var smoothing: Int
    /// A merge method's name in the ``Catalog``.
    public var method: String
    /// The values of the weighting's and the method's declared parameters.
    public var parameters: ParameterValues
    /// The highest LoRA rank the published merge may have (`merge.max_rank`): a merge
    /// above it is published as its truncated SVD at this rank; 0: no cap.
    public var maxRank: Int = 0

    /// The defaults, as measured (see the README): on three real runs, the exact
    /// delta average of the last 3 checkpoints under an EMA with a half-life of two
    /// saves beat the newest checkpoint more often than any other variant; the old
    /// default (a parameter average of 5 by loss) was the weakest in every run. The
    /// method is `auto`: that delta wherever it is exact, linear where it is not
    /// (DoRA), so that the default merges every adapter.
    public static let defaultWindow = 3
    public static let defaultWeighting = "ema"
    public static let defaultMethod = "auto"

    public init(window: WindowSpec = WindowSpec(count: MergeSettings.defaultWindow), weighting: String = MergeSettings.defaultWeighting,
                metric: Metric = .trainLoss, smoothing: Int = 1, method: String = MergeSettings.defaultMethod,
                parameters: [String: ParameterValue] = [:]) {
        self.window = window
        self.weighting = weighting
        self.metric = metric
        self.smoothing = smoothing
        self.method = method
        self.parameters = ParameterValues(parameters)
    }

    /// Settings of a window of the last `window` checkpoints, the loss or step
    /// weighting's penalty given as `penalty`.
    public init(window: Int, weighting: String = MergeSettings.defaultWeighting, penalty: Double? = nil, metric: Metric = .trainLoss,
                smoothing: Int = 1, method: String = MergeSettings.defaultMethod, parameters: [String: ParameterValue] = [:]) {
        var values = parameters
        if let penalty { values["penalty"] = .number(penalty) }
        self.init(window: WindowSpec(count: window), weighting: weighting, metric: metric, smoothing: smoothing, method: method,
                  parameters: values)
    }

    /// The loss or step weighting's penalty, nil where the weighting has none.
    public var penalty: Double? { parameters["penalty"]?.number }

    /// The settings as one line of text, every field named, in a fixed order. Of the
    /// effective settings (every declared parameter present, as the catalog's
    /// `effective` makes them, and as every merge row stores them): only those are
    /// compared. Computed from the stored values alone, with no catalog look-up, so
    /// that the ledger and status read it as it was written.
    public var canonical: String {
        let s = self
        let window = "window=\(s.window.count.map(String.init) ?? "all")"
            + (s.window.steps.map { ";window_steps=\($0)" } ?? "") + (s.window.stride == 1 ? "" : ";stride=\(s.window.stride)")
        let parameters = s.parameters.values.keys.sorted().map { "\($0)=\(s.parameters[$0]!)" }
        return ([window, "weighting=\(s.weighting)"] + parameters
            + ["metric=\(s.metric.rawValue)", "smoothing=\(s.smoothing)", "method=\(s.method)"]
            + (s.maxRank > 0 ? ["max_rank=\(s.maxRank)"] : [])).joined(separator: ";")
    }

    /// A short, stable identifier of ``canonical`` (FNV-1a, 64 bits, hex): equal
    /// fingerprints of effective settings mean the same merged bytes from the same
    /// checkpoints.
    public var fingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in canonical.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
