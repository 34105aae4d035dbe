import Ingest

/// A column of the members' table: what each member was weighed by.
public struct WeighedColumn: Sendable, Equatable {
    /// The column's title (`age (steps)`).
    public var title: String
    /// One cell per member, oldest first.
    public var values: [String]
    /// The parameters as resolved for this window (`half_life auto = 20 steps`).
    public var resolved: String?

    public init(title: String, values: [String], resolved: String?) {
        self.title = title
        self.values = values
        self.resolved = resolved
    }
}

/// What only the catalog can say of a settings value: its effective form (every
/// declared parameter present), its words, the metric its weighting reads, and the
/// column its weighting shows in a members' table. `mwad status` and the metrics file
/// are given the catalog's (`Catalog.words`) and read nothing else of it, so that
/// they depend on the stored value alone.
public protocol SettingsWords: Sendable {
    func effective(_ settings: MergeSettings) -> MergeSettings
    /// `ema weighting (half_life 40) · delta method · window the last 3`.
    func summary(_ settings: MergeSettings) -> String
    /// `ema, half_life 40, window 3, delta`: a candidate's name.
    func brief(_ settings: MergeSettings) -> String
    /// The name of what the weighting reads: its metric, or `step` for one that reads none.
    func weightingMetric(_ settings: MergeSettings) -> String
    /// What each member (name, step, metric value) was weighed by, where the weighting
    /// shows more than its metric (ema: the age).
    func weighed(_ settings: MergeSettings, members: [(name: String, step: Int64, metric: Double?)]) -> WeighedColumn?
}
