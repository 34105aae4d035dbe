import Ingest
import Weigh

/// Settings from text, by name: the one reader behind config keys (`merge.NAME`),
/// `MWAD_MERGE_*` variables, `mwad merge`/`mwad run` flags and `eval.candidates`.
/// Every name it takes is a setting every merge has or a parameter the catalog
/// declares; each value is checked by its declaration, and the whole by
/// ``MergeSettings/validate(catalog:)``.
public enum SettingsText {
    /// A setting every merge has, declared once: its name (config key `merge.NAME`,
    /// `MWAD_MERGE_NAME`, flag `--NAME`), what it accepts, its help and default, how its
    /// text is read into the value and written back, and how it reads in a summary. The
    /// reader, the flags' help, `mwad run`'s change notice and the summaries all read
    /// these declarations.
    public struct Fixed: Sendable {
        public let name: String
        public let allowed: String
        public let help: String
        /// What the value is called in `--help` and synopses.
        public var valueName: String
        /// The default as text ("" where there is none: window_steps).
        public var defaultText: String
        /// Sets the value `text` stands for; throws naming the setting where it is not allowed.
        public var read: @Sendable (_ text: String, _ settings: inout MergeSettings) throws(WeighError) -> Void
        /// The value in `settings` as text (what a change notice compares).
        public var text: @Sendable (MergeSettings) -> String
        /// How it reads in a summary or a candidate's name where it is not its default
        /// (`smoothing 3`); nil where the summary says it otherwise (the window) or it is
        /// at its default.
        public var word: @Sendable (MergeSettings) -> String? = { _ in nil }

        /// `[--window-steps S]`: the flag in a synopsis.
        public var synopsis: String { "[--\(name.replacingOccurrences(of: "_", with: "-")) \(valueName)]" }

        func invalid(_ value: String) -> WeighError { .invalidSetting(name: name, value: value, allowed: allowed) }
    }

    /// A whole number in `range`, set by `set`.
    private static func whole(_ name: String, _ range: ClosedRange<Int>, allowed: String, help: String, valueName: String, defaultText: String,
                              get: @escaping @Sendable (MergeSettings) -> Int, set: @escaping @Sendable (inout MergeSettings, Int) -> Void,
                              word: @escaping @Sendable (MergeSettings) -> String? = { _ in nil }) -> Fixed {
        Fixed(name: name, allowed: allowed, help: help, valueName: valueName, defaultText: defaultText, read: { (text: String, settings: inout MergeSettings) throws(WeighError) in
            guard let n = Int(text), range.contains(n) else { throw .invalidSetting(name: name, value: text, allowed: allowed) }
            set(&settings, n)
        }, text: { "\(get($0))" }, word: word)
    }

    public static func fixed(_ catalog: Catalog = .shared) -> [Fixed] {
        [
            Fixed(name: "method", allowed: "one of " + catalog.methods.map(\.name).joined(separator: ", "),
                  help: "How the members' tensors are combined: " + catalog.methods.map { "\($0.name) (\($0.help))" }.joined(separator: "; ") + ".",
                  valueName: catalog.methods.map(\.name).joined(separator: "|"), defaultText: MergeSettings.defaultMethod,
                  read: { (text: String, settings: inout MergeSettings) throws(WeighError) in settings.method = try catalog.method(text).name },
                  text: \.method),
            Fixed(name: "weighting", allowed: "one of " + catalog.weightings.map(\.name).joined(separator: ", "),
                  help: "How the members are weighed: " + catalog.weightings.map { "\($0.name) (\($0.help))" }.joined(separator: "; ") + ".",
                  valueName: catalog.weightings.map(\.name).joined(separator: "|"), defaultText: MergeSettings.defaultWeighting,
                  read: { (text: String, settings: inout MergeSettings) throws(WeighError) in settings.weighting = try catalog.weighting(text).name },
                  text: \.weighting),
            Fixed(name: "window", allowed: "a whole number >= 1, or all",
                  help: "How many of the latest checkpoints to merge, or all (with a running weighting such as ema).",
                  valueName: "N|all", defaultText: "\(MergeSettings.defaultWindow)",
                  read: { (text: String, settings: inout MergeSettings) throws(WeighError) in
                      if text == "all" { settings.window.count = nil; return }
                      guard let n = Int(text), n >= 1 else { throw .invalidSetting(name: "window", value: text, allowed: "a whole number >= 1, or all") }
                      settings.window.count = n
                  }, text: { $0.window.count.map(String.init) ?? "all" }),
            Fixed(name: "window_steps", allowed: "a whole number of steps >= 0", help: "Only checkpoints within this many steps of the newest.",
                  valueName: "S", defaultText: "",
                  read: { (text: String, settings: inout MergeSettings) throws(WeighError) in
                      guard let n = Int64(text), n >= 0 else { throw .invalidSetting(name: "window_steps", value: text, allowed: "a whole number of steps >= 0") }
                      settings.window.steps = n
                  }, text: { $0.window.steps.map(String.init) ?? "" }),
            whole("stride", 1...Int.max, allowed: "a whole number >= 1", help: "Every K-th checkpoint counting back from the newest (LAWA's spacing).",
                  valueName: "K", defaultText: "1", get: \.window.stride, set: { $0.window.stride = $1 }),
            Fixed(name: "metric", allowed: "train_loss or eval_loss", help: "The loss a loss weighting reads.", valueName: "train_loss|eval_loss",
                  defaultText: Metric.trainLoss.rawValue,
                  read: { (text: String, settings: inout MergeSettings) throws(WeighError) in
                      guard let metric = Metric(rawValue: text) else {
                          throw .invalidSetting(name: "metric", value: text, allowed: Metric.allCases.map(\.rawValue).joined(separator: " or "))
                      }
                      settings.metric = metric
                  }, text: \.metric.rawValue),
            whole("smoothing", 1...Int.max, allowed: "a whole number >= 1", help: "Average the last K logged losses up to each checkpoint's step.",
                  valueName: "K", defaultText: "1", get: \.smoothing, set: { $0.smoothing = $1 },
                  word: { $0.smoothing == 1 ? nil : "smoothing \($0.smoothing)" }),
            whole("max_rank", 0...65_536, allowed: "a whole number >= 0 (0: no cap)",
                  help: "A merge of a higher LoRA rank is published as its truncated SVD at this rank (a serving engine's limit); 0: no cap.",
                  valueName: "R", defaultText: "0", get: \.maxRank, set: { $0.maxRank = $1 },
                  word: { $0.maxRank == 0 ? nil : "max_rank \($0.maxRank)" }),
        ]
    }

    /// Every name settings can be given by: the fixed ones, then each parameter.
    public static func names(_ catalog: Catalog = .shared) -> [String] {
        fixed(catalog).map(\.name) + catalog.parameters.map(\.parameter.name)
    }

    /// The default of `name` as text ("" where there is none: window_steps).
    public static func defaultText(_ name: String, catalog: Catalog = .shared) -> String {
        fixed(catalog).first { $0.name == name }?.defaultText ?? catalog.parameter(name).map { "\($0.defaultValue)" } ?? ""
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
        // In declaration order: the method and weighting first, whose parameters follow.
        for setting in fixed(catalog) {
            if let v = value(setting.name) { try setting.read(v, &settings) }
        }
        let declared = Set(((try? catalog.weighting(settings.weighting))?.parameters ?? []).map(\.name)
            + ((try? catalog.method(settings.method))?.parameters ?? []).map(\.name))
        settings.parameters.values = settings.parameters.values.filter { declared.contains($0.key) }
        for (parameter, _) in catalog.parameters {
            guard let v = value(parameter.name) else { continue }
            // Checked even where unused: a wrong value in a file is a mistake waiting.
            guard let parsed = parameter.parse(v) else { throw .invalidSetting(name: parameter.name, value: v, allowed: parameter.allowed) }
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
