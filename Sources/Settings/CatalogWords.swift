import Ingest
import Weigh

/// The catalog's words for a settings value: what `mwad status` and the metrics file
/// are given to describe what the ledger stored.
struct CatalogWords: SettingsWords {
    func effective(_ settings: MergeSettings) -> MergeSettings { settings.effective }
    func summary(_ settings: MergeSettings) -> String { settings.summary }
    func brief(_ settings: MergeSettings) -> String { settings.brief }

    func weightingMetric(_ settings: MergeSettings) -> String {
        Metric.name(settings.weighedMetric)
    }

    func weighed(_ settings: MergeSettings, members: [(name: String, step: Int64, metric: Double?)]) -> WeighedColumn? {
        settings.weighed(members.map { Candidate(name: $0.name, step: $0.step, metricValue: $0.metric) })
    }
}

extension Catalog {
    /// The built-in and registered parts' words for settings values.
    public static var words: any SettingsWords { CatalogWords() }
}
