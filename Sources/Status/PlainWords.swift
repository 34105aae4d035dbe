import Ingest
import SettingsValue

/// Settings in plain words, for a report decoded from its JSON (which holds no
/// catalog): every parameter by name, in name order; the stored value as it is.
struct PlainWords: SettingsWords {
    func effective(_ settings: MergeSettings) -> MergeSettings { settings }

    func summary(_ settings: MergeSettings) -> String {
        ["\(settings.weighting) weighting", "\(settings.method) method" + parameters(settings).map { " (\($0))" }.joined(),
         "window \(settings.window.summary)"].joined(separator: " · ")
    }

    func brief(_ settings: MergeSettings) -> String {
        ([settings.weighting] + parameters(settings) + ["window \(settings.window.count.map(String.init) ?? "all")", settings.method])
            .joined(separator: ", ")
    }

    func weightingMetric(_ settings: MergeSettings) -> String { settings.metric.rawValue }

    func weighed(_ settings: MergeSettings, members: [(name: String, step: Int64, metric: Double?)]) -> WeighedColumn? { nil }

    private func parameters(_ settings: MergeSettings) -> [String] {
        settings.parameters.values.keys.sorted().map { "\($0) \(settings.parameters[$0]!)" }
    }
}
