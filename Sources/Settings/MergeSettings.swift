import Ingest
import Merge
import Weigh

/// What the catalog knows of a settings value: its checks against the declared
/// parameters, its effective form, the weighting and method it makes, and its words.
extension MergeSettings {
    /// Checks every field against the catalog's declarations; the error names the
    /// setting and what is allowed. The one place settings are validated.
    public func validate(catalog: Catalog = .shared) throws(WeighError) {
        // Each setting every merge has, through its own declaration's reader: a value
        // its text would not be read back as is refused as that text would be.
        var scratch = self
        for setting in SettingsText.fixed(catalog) {
            let text = setting.text(self)
            if !text.isEmpty { try setting.read(text, &scratch) }
        }
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
            guard weighting.separable, method.incremental != nil, made?.isSeparable == true else {
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

    /// `ema weighting (half_life 40) · delta method · window the last 3`, with the
    /// metric where the weighting reads one and smoothing where it is not 1.
    public var summary: String {
        let s = effective
        let readsMetric = (try? Catalog.shared.weighting(s.weighting))?.readsMetric ?? false
        var parts = ["\(s.weighting) weighting" + (readsMetric ? " on \(s.metric.rawValue)" : "") + Self.list(s, ownedBy: s.weighting, weighting: true),
                     "\(s.method) method" + Self.list(s, ownedBy: s.method, weighting: false),
                     "window \(s.window.summary)"]
        parts += SettingsText.fixed().compactMap { $0.word(s) }
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
        parts += SettingsText.fixed().compactMap { $0.word(s) }
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

    /// The metric the weighting reads (nil: steps only); `metric` where the settings do
    /// not make a weighting.
    public var weighedMetric: Metric? {
        guard let weighting = try? weightingMethod() else { return metric }
        return weighting.metric
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
