import Ingest
import Publish
import Settings

/// Every block the README, REFERENCE and `config/mwad.yaml` hold between `BEGIN
/// catalog:NAME` and `END catalog:NAME`, rendered from the catalogs: the methods',
/// weightings' and layouts' tables (``CatalogDocs``), the publication targets'
/// (``PublicationDocs``), and the commands' synopses, whose names and parameter
/// flags come from the catalogs. `RenderedDocsTests` fails when a checked-in copy
/// differs (`MWAD_UPDATE_DOCS=1` rewrites them and fails that run).
public enum RenderedDocs {
    public static func blocks(_ catalog: Catalog = .shared) -> [String: String] {
        CatalogDocs.blocks(catalog).merging(PublicationDocs.blocks()) { $1 }.merging([
            "merge-synopsis": fence(mergeSynopsis(catalog)),
            "run-synopsis": fence(runSynopsis(catalog)),
        ]) { $1 }
    }

    public static func update(_ text: String, catalog: Catalog = .shared) -> String {
        CatalogDocs.update(text, catalog: catalog, blocks: blocks(catalog))
    }

    private static func fence(_ text: String) -> String { "```\n\(text)\n```" }

    private static var layouts: String { "[--layout \(LayoutCatalog.builtIn.map(\.description.name).reduce("auto") { "\($0)|\($1)" })]" }
    private static var publications: String { "[--publish \((["auto"] + PublicationCatalog.builtIn.map(\.name)).joined(separator: "|"))]" }

    static func mergeSynopsis(_ catalog: Catalog) -> String {
        CatalogDocs.wrap("mwad merge RUN_DIR --out DIR", CatalogDocs.settingsSynopsis(catalog)
            + [layouts, publications, "[--dry-run]", "[--json]", "[--ledger FILE]"])
            + "\nmwad merge --checkpoints DIR... --out DIR [the same options but the window's]"
    }

    static func runSynopsis(_ catalog: Catalog) -> String {
        CatalogDocs.wrap("mwad run", ["[--config FILE]", "[--watch DIR]", "[--out DIR]", publications, "[--ledger FILE]", "[--state-dir DIR]"]
            + CatalogDocs.settingsSynopsis(catalog)
            + ["[--watch-mode auto|inotify|poll]", layouts, "[--tensorboard-logdir DIR|auto]", "[--eval-command ARGV]", "[--best-output DIR]",
               "[--eval-metric KEY]", "[--eval-goal minimize|maximize]", "[--eval-timeout S]", "[--eval-nice N]", "[--eval-candidates LIST]",
               "[--until-pid PID]", "[--once]"])
    }
}
