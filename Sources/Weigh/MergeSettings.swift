import Ingest

/// The weighting a user names in config or on the command line.
public enum WeightingKind: String, Sendable, CaseIterable, Codable {
    case loss, step, uniform
}

/// Everything that decides a merge's bytes, as one value: which checkpoints (the last
/// `window`), how they are weighed (`weighting`, `penalty`, `metric`, `smoothing`) and
/// how their tensors are combined (`method`).
///
/// The daemon, `mwad merge`, the ledger and `mwad status` all pass this value whole:
/// it is stored whole on every merge row, and its ``fingerprint`` alone decides
/// whether the published merge was made with the settings in force. A new setting is
/// a new field here (with a default when decoding older rows), and nothing else.
public struct MergeSettings: Sendable, Equatable, Hashable, Codable {
    public var window: Int
    public var weighting: WeightingKind
    public var penalty: Double
    /// The loss metric read for `loss` weighting (and shown for the others).
    public var metric: Metric
    /// Mean of the last K logged values (1: the last value alone).
    public var smoothing: Int
    /// The merge method's name in ``MergeMethods`` (today `linear`).
    public var method: String

    public static let defaultMethod = "linear"

    public init(window: Int = 5, weighting: WeightingKind = .loss, penalty: Double = 1.0,
                metric: Metric = .trainLoss, smoothing: Int = 1, method: String = MergeSettings.defaultMethod) {
        self.window = window
        self.weighting = weighting
        self.penalty = penalty
        self.metric = metric
        self.smoothing = smoothing
        self.method = method
    }

    /// Checks every field; the error names the setting and what is allowed.
    public func validate() throws(WeighError) {
        guard window >= 1 else { throw .invalidSetting(name: "window", value: "\(window)", allowed: "a whole number >= 1") }
        guard penalty.isFinite, penalty >= 0 else { throw .invalidPenalty(penalty) }
        guard metric != .step else {
            throw .invalidSetting(name: "metric", value: metric.rawValue, allowed: "train_loss or eval_loss (step weighting reads steps)")
        }
        guard smoothing >= 1 else { throw .invalidSetting(name: "smoothing", value: "\(smoothing)", allowed: "a whole number >= 1") }
    }

    /// The weighting these settings name; a zero penalty is uniform whatever the kind.
    public func weightingMethod() throws(WeighError) -> any WeightingMethod {
        guard penalty.isFinite, penalty >= 0 else { throw .invalidPenalty(penalty) }
        let applied = effective
        switch applied.weighting {
        case .loss: return LossWeighting(penalty: applied.penalty, metric: metric)
        case .step: return StepWeighting(penalty: applied.penalty)
        case .uniform: return UniformWeighting(metric: metric)
        }
    }

    /// The same settings with what makes no difference to the bytes spelled one way:
    /// a zero penalty is uniform weighting, and uniform weighting has no penalty.
    public var effective: MergeSettings {
        var settings = self
        if penalty == 0 || weighting == .uniform {
            settings.weighting = .uniform
            settings.penalty = 0
        }
        return settings
    }

    /// The effective settings as one line of text, every field named, in a fixed order.
    public var canonical: String {
        let s = effective
        return "window=\(s.window);weighting=\(s.weighting.rawValue);penalty=\(s.penalty);metric=\(s.metric.rawValue);smoothing=\(s.smoothing);method=\(s.method)"
    }

    /// A short, stable identifier of ``canonical`` (FNV-1a, 64 bits, hex): equal
    /// fingerprints mean the same merged bytes from the same checkpoints.
    public var fingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in canonical.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// A short human summary: `window 5 · loss weighting on train_loss · penalty 1 · smoothing 1`.
    public var summary: String {
        "window \(window) · \(weighting.rawValue) weighting on \(metric.rawValue) · penalty \(Self.number(penalty)) · smoothing \(smoothing)"
            + (method == Self.defaultMethod ? "" : " · \(method) method")
    }

    /// The settings in a few words, for a candidate's name: `uniform, window 3`.
    public var brief: String {
        let s = effective
        var parts = [s.weighting.rawValue]
        if s.weighting != .uniform { parts.append("p \(Self.number(s.penalty))") }
        parts.append("window \(s.window)")
        if s.weighting == .loss { parts.append(s.metric.rawValue) }
        if s.smoothing != 1 { parts.append("smoothing \(s.smoothing)") }
        return parts.joined(separator: ", ")
    }

    /// A number the way mwad prints settings everywhere: `1`, `0.5`, `20`.
    public static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }

    enum CodingKeys: String, CodingKey {
        case window, weighting, penalty, metric, smoothing, method
    }

    /// Decodes settings stored by any mwad version: a field added later takes its
    /// default when an older row lacks it.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = MergeSettings()
        window = try c.decodeIfPresent(Int.self, forKey: .window) ?? defaults.window
        weighting = try c.decodeIfPresent(WeightingKind.self, forKey: .weighting) ?? defaults.weighting
        penalty = try c.decodeIfPresent(Double.self, forKey: .penalty) ?? defaults.penalty
        metric = try c.decodeIfPresent(Metric.self, forKey: .metric) ?? defaults.metric
        smoothing = try c.decodeIfPresent(Int.self, forKey: .smoothing) ?? defaults.smoothing
        method = try c.decodeIfPresent(String.self, forKey: .method) ?? defaults.method
    }
}
