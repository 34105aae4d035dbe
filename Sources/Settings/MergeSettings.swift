import Ingest
import Merge
import Weigh

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

    /// Checks every field against the catalog's declarations; the error names the
    /// setting and what is allowed. The one place settings are validated.
    public func validate(catalog: Catalog = .shared) throws(WeighError) {
        if let count = window.count, count < 1 { throw .invalidSetting(name: "window", value: "\(count)", allowed: "a whole number >= 1, or all") }
        if let steps = window.steps, steps < 0 { throw .invalidSetting(name: "window_steps", value: "\(steps)", allowed: "a whole number of steps >= 0") }
        guard window.stride >= 1 else { throw .invalidSetting(name: "stride", value: "\(window.stride)", allowed: "a whole number >= 1") }
        guard metric != .step else {
            throw .invalidSetting(name: "metric", value: metric.rawValue, allowed: "train_loss or eval_loss")
        }
        guard smoothing >= 1 else { throw .invalidSetting(name: "smoothing", value: "\(smoothing)", allowed: "a whole number >= 1") }
        let weighting = try catalog.weighting(self.weighting)
        let method = try catalog.method(self.method)
        let declared = weighting.parameters + method.parameters
        for (name, value) in parameters.values {
            guard let parameter = declared.first(where: { $0.name == name }) else {
                let owners = catalog.owners(of: name)
                throw .invalidSetting(name: name, value: "\(value)", allowed: owners.isEmpty
                    ? "a parameter of the weighting or method in use; \(self.weighting) and \(self.method) declare \(Self.names(declared))"
                    : "left out: it is a parameter of \(owners.joined(separator: ", ")), not of weighting \(self.weighting) or method \(self.method)")
            }
            guard parameter.accepts(value) else { throw .invalidSetting(name: name, value: "\(value)", allowed: parameter.allowed) }
        }
        if window.count == nil {
            let effective = self.effective(in: catalog)
            // Asked of the weighting as made with these parameters (an automatic EMA
            // half-life depends on the window's steps), not of its name.
            let made = weighting.make(effective.parameters, metric) as? any SeparableWeighting
            guard weighting.separable, method.hasRunningSum, made?.isSeparable == true else {
                throw .invalidSetting(name: "window", value: "all", allowed: "a number unless the merge can be kept as a running average: window all needs a weighting whose weights each depend on one checkpoint (ema with half_life > 0, step, loss, uniform) and method linear")
            }
        }
    }

    private static func names(_ parameters: [MergeParameter]) -> String {
        parameters.isEmpty ? "none" : parameters.map(\.name).joined(separator: ", ")
    }

    /// The weighting these settings name, made with their parameters.
    public func weightingMethod(catalog: Catalog = .shared) throws(WeighError) -> any WeightingMethod {
        try validate(catalog: catalog)
        let effective = self.effective(in: catalog)
        return try catalog.weighting(effective.weighting).make(effective.parameters, metric)
    }

    /// The merge method these settings name, made with their parameters.
    public func mergeMethod(catalog: Catalog = .shared) throws(MergeError) -> any MergeMethod {
        let effective = self.effective(in: catalog)
        guard let description = catalog.methods.first(where: { $0.name == effective.method }) else {
            throw .unknownMethod(name: method, known: catalog.methods.map(\.name))
        }
        return description.make(effective.parameters)
    }

    /// The same settings with what makes no difference to the bytes spelled one way:
    /// every declared parameter present (its default where none was given), none
    /// other; a zero penalty is uniform weighting.
    public var effective: MergeSettings { effective(in: .shared) }

    /// ``effective`` with the parameters `catalog` declares.
    public func effective(in catalog: Catalog) -> MergeSettings {
        var settings = self
        if let penalty = parameters["penalty"]?.number, penalty == 0, ["loss", "step"].contains(weighting) {
            settings.weighting = "uniform"
        }
        let declared = ((try? catalog.weighting(settings.weighting))?.parameters ?? [])
            + ((try? catalog.method(settings.method))?.parameters ?? [])
        var values: [String: ParameterValue] = [:]
        for parameter in declared { values[parameter.name] = parameters[parameter.name] ?? parameter.defaultValue }
        settings.parameters = ParameterValues(values)
        return settings
    }

    /// The effective settings as one line of text, every field named, in a fixed order.
    public var canonical: String {
        let s = effective
        let window = "window=\(s.window.count.map(String.init) ?? "all")"
            + (s.window.steps.map { ";window_steps=\($0)" } ?? "") + (s.window.stride == 1 ? "" : ";stride=\(s.window.stride)")
        let parameters = s.parameters.values.keys.sorted().map { "\($0)=\(s.parameters[$0]!)" }
        return ([window, "weighting=\(s.weighting)"] + parameters
            + ["metric=\(s.metric.rawValue)", "smoothing=\(s.smoothing)", "method=\(s.method)"]).joined(separator: ";")
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

    /// `ema weighting (half_life 40) · delta method · window the last 3`, with the
    /// metric where the weighting reads one and smoothing where it is not 1.
    public var summary: String {
        let s = effective
        let readsMetric = (try? Catalog.shared.weighting(s.weighting))?.readsMetric ?? false
        var parts = ["\(s.weighting) weighting" + (readsMetric ? " on \(s.metric.rawValue)" : "") + Self.list(s, ownedBy: s.weighting, weighting: true),
                     "\(s.method) method" + Self.list(s, ownedBy: s.method, weighting: false),
                     "window \(s.window.summary)"]
        if s.smoothing != 1 { parts.append("smoothing \(s.smoothing)") }
        return parts.joined(separator: " · ")
    }

    /// The settings in a few words, for a candidate's name: `ema, half_life 40, window 3, delta`.
    public var brief: String {
        let s = effective
        var parts = [s.weighting]
        let weighting = (try? Catalog.shared.weighting(s.weighting))
        for parameter in weighting?.parameters ?? [] { parts.append("\(Self.shortName(parameter.name)) \(s.parameters[parameter.name]!)") }
        if weighting?.readsMetric == true { parts.append(s.metric.rawValue) }
        parts.append("window \(s.window.count.map(String.init) ?? "all")")
        if let steps = s.window.steps { parts.append("within \(steps) steps") }
        if s.window.stride > 1 { parts.append("stride \(s.window.stride)") }
        if s.smoothing != 1 { parts.append("smoothing \(s.smoothing)") }
        parts.append(s.method)
        for parameter in (try? Catalog.shared.method(s.method))?.parameters ?? [] {
            parts.append("\(Self.shortName(parameter.name)) \(s.parameters[parameter.name]!)")
        }
        return parts.joined(separator: ", ")
    }

    /// `penalty` reads as `p` in a candidate's name, as it always has.
    private static func shortName(_ name: String) -> String { name == "penalty" ? "p" : name }

    private static func list(_ s: MergeSettings, ownedBy name: String, weighting: Bool) -> String {
        let declared = weighting ? (try? Catalog.shared.weighting(name))?.parameters : (try? Catalog.shared.method(name))?.parameters
        let items = (declared ?? []).map { "\($0.name) \(s.parameters[$0.name]!)" }
        return items.isEmpty ? "" : " (\(items.joined(separator: ", ")))"
    }

    /// What the weighting weighs `candidates` by, for the members' tables (nil where
    /// it is their metric value, or the settings do not make a weighting).
    public func weighed(_ candidates: [Candidate]) -> WeighedColumn? {
        (try? weightingMethod())?.weighed(candidates)
    }

    /// These settings with what a merge resolved filled in: a `rank` of 0 (svd: the
    /// newest member's rank) as the rank the merge took, so that labels name it.
    public func resolved(by report: MergeReport?) -> MergeSettings {
        var settings = self
        if settings.parameters["rank"]?.number == 0, let rank = report?.rank { settings.parameters["rank"] = .number(Double(rank)) }
        return settings
    }

    /// A number the way mwad prints settings everywhere: `1`, `0.5`, `20`.
    public static func number(_ value: Double) -> String { MergeParameter.format(value) }
}
