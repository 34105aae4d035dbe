/// The publication targets' table in REFERENCE, rendered from the catalog's
/// descriptions (the block `reference-publications`; see ``CatalogDocs``).
public enum PublicationDocs {
    /// The blocks this catalog renders, by name.
    public static func blocks() -> [String: String] {
        ["reference-publications": table()]
    }

    static func table() -> String {
        let auto = "| `auto` (default) | the one the run's layout proposes: `file` for the `flat` layout, `folder` for the others |"
        return (["| `publish` | how a merge, the best adapter and `eval.keep_newest`'s copy are published |", "| --- | --- |", auto]
            + PublicationCatalog.builtIn.map { "| `\($0.name)` | \($0.help.replacingOccurrences(of: "|", with: "\\|")) |" }).joined(separator: "\n")
    }
}
