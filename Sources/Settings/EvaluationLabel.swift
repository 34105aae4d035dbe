import Ledger

extension EvaluationRecord {
    /// A short name: `merge`, the checkpoint's own name, or the candidate's settings in
    /// the catalog's words.
    public var label: String { label(brief: \.brief) }
}
