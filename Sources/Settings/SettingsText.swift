import Ingest
import Weigh

/// Settings from text, by name: the one reader behind config keys (`merge.NAME`),
/// `MWAD_MERGE_*` variables, `mwad merge`/`mwad run` flags and `eval.candidates`.
/// Every name it takes is a setting every merge has or a parameter the catalog
/// declares; each value is checked by its declaration, and the whole by
/// ``MergeSettings/validate(catalog:)``.
public enum SettingsText {
    /// A setting every merge has, with what it accepts and one line of help.
    public struct Fixed: Sendable {
        public let name: String
        public let allowed: String
        public let help: String
        /// What the value is called in `--help` and synopses.
        public var valueName = "name"

        /// `[--window-steps S]`: the flag in a synopsis.
        public var synopsis: String { "[--\(name.replacingOccurrences(of: "_", with: "-")) \(valueName)]" }
    }

    public static func fixed(_ catalog: Catalog = .shared) -> [Fixed] {
        [
            Fixed(name: "method", allowed: "one of " + catalog.methods.map(\.name).joined(separator: ", "),
                  help: "How the members' tensors are combined: " + catalog.methods.map { "\($0.name) (\($0.help))" }.joined(separator: "; ") + ".",
                  valueName: catalog.methods.map(\.name).joined(separator: "|")),
            Fixed(name: "weighting", allowed: "one of " + catalog.weightings.map(\.name).joined(separator: ", "),
                  help: "How the members are weighed: " + catalog.weightings.map { "\($0.name) (\($0.help))" }.joined(separator: "; ") + ".",
                  valueName: catalog.weightings.map(\.name).joined(separator: "|")),
            Fixed(name: "window", allowed: "a whole number >= 1, or all", help: "How many of the latest checkpoints to merge, or all (with a running weighting such as ema).",
                  valueName: "N|all"),
            Fixed(name: "window_steps", allowed: "a whole number of steps >= 0", help: "Only checkpoints within this many steps of the newest.", valueName: "S"),
            Fixed(name: "stride", allowed: "a whole number >= 1", help: "Every K-th checkpoint counting back from the newest (LAWA's spacing).", valueName: "K"),
            Fixed(name: "metric", allowed: "train_loss or eval_loss", help: "The loss a loss weighting reads.", valueName: "train_loss|eval_loss"),
            Fixed(name: "smoothing", allowed: "a whole number >= 1", help: "Average the last K logged losses up to each checkpoint's step.", valueName: "K"),
            Fixed(name: "max_rank", allowed: "a whole number >= 0 (0: no cap)",
                  help: "A merge of a higher LoRA rank is published as its truncated SVD at this rank (a serving engine's limit); 0: no cap.",
                  valueName: "R"),
        ]
    }

    /// Every name settings can be given by: the fixed ones, then each parameter.
    public static func names(_ catalog: Catalog = .shared) -> [String] {
        fixed(catalog).map(\.name) + catalog.parameters.map(\.parameter.name)
    }

    /// The default of `name` as text ("" where there is none: window_steps).
    public static func defaultText(_ name: String, catalog: Catalog = .shared) -> String {
        let defaults = MergeSettings()
        switch name {
        case "method": return defaults.method
        case "weighting": return defaults.weighting
        case "window": return "\(defaults.window.count!)"
        case "window_steps": return ""
        case "stride": return "1"
        case "metric": return defaults.metric.rawValue
        case "smoothing": return "1"
        case "max_rank": return "0"
        default: return catalog.parameter(name).map { "\($0.defaultValue)" } ?? ""
        }
    }

    /// Checks one value alone (its kind and range), as a flag of `mwad run` is checked
    /// before the configuration it overrides is read.
    public static func check(_ name: String, _ value: String, catalog: Catalog = .shared) throws(WeighError) {
        var base = MergeSettings(window: 5, weighting: "uniform", method: "linear")
        if let owner = catalog.weightings.first(where: { $0.parameters.contains { $0.name == name } }) { base.weighting = owner.name }
        if let owner = catalog.methods.first(where: { $0.parameters.contains { $0.name == name } }) { base.method = owner.name }
        if name == "window", value == "all" { return }
        if ["weighting", "method"].contains(name) { base.method = "linear"; base.weighting = "uniform" }
        _ = try read({ $0 == name ? value : nil }, over: base, catalog: catalog)
    }

    /// `base` with the values `text` gives (by name; nil for not given) over it. A
    /// parameter of `base` that the new weighting or method does not declare is
    /// dropped. One given here is an error naming its owner when `strict` (a flag, a
    /// candidate: the user meant it for this merge), and ignored otherwise (a config
    /// file documents every key, whichever weighting is in use).
    public static func read(_ text: (String) -> String?, over base: MergeSettings, strict: Bool = true,
                            catalog: Catalog = .shared) throws(WeighError) -> MergeSettings {
        var settings = base
        func value(_ name: String) -> String? { text(name).flatMap { $0.isEmpty ? nil : $0.trimmed } }
        func invalid(_ name: String, _ value: String, _ allowed: String) -> WeighError { .invalidSetting(name: name, value: value, allowed: allowed) }
        if let v = value("method") { settings.method = try catalog.method(v).name }
        if let v = value("weighting") { settings.weighting = try catalog.weighting(v).name }
        if let v = value("window") {
            if v == "all" { settings.window.count = nil } else {
                guard let n = Int(v), n >= 1 else { throw invalid("window", v, "a whole number >= 1, or all") }
                settings.window.count = n
            }
        }
        if let v = value("window_steps") {
            guard let n = Int64(v), n >= 0 else { throw invalid("window_steps", v, "a whole number of steps >= 0") }
            settings.window.steps = n
        }
        if let v = value("stride") {
            guard let n = Int(v), n >= 1 else { throw invalid("stride", v, "a whole number >= 1") }
            settings.window.stride = n
        }
        if let v = value("metric") {
            guard let metric = Metric(rawValue: v), metric != .step else { throw invalid("metric", v, "train_loss or eval_loss") }
            settings.metric = metric
        }
        if let v = value("smoothing") {
            guard let n = Int(v), n >= 1 else { throw invalid("smoothing", v, "a whole number >= 1") }
            settings.smoothing = n
        }
        if let v = value("max_rank") {
            guard let n = Int(v), n >= 0, n <= 65_536 else { throw invalid("max_rank", v, "a whole number >= 0 (0: no cap)") }
            settings.maxRank = n
        }
        let declared = Set(((try? catalog.weighting(settings.weighting))?.parameters ?? []).map(\.name)
            + ((try? catalog.method(settings.method))?.parameters ?? []).map(\.name))
        settings.parameters.values = settings.parameters.values.filter { declared.contains($0.key) }
        for (parameter, _) in catalog.parameters {
            guard let v = value(parameter.name) else { continue }
            // Checked even where unused: a wrong value in a file is a mistake waiting.
            guard let parsed = parameter.parse(v) else { throw invalid(parameter.name, v, parameter.allowed) }
            if strict || declared.contains(parameter.name) { settings.parameters[parameter.name] = parsed }
        }
        try settings.validate(catalog: catalog)
        return settings
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
