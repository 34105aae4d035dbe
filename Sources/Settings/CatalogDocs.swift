import Foundation
import Ingest
import Merge
import Weigh

/// The tables of methods, weightings and layouts that the README, REFERENCE and
/// `config/mwad.yaml` show, rendered from the catalogs' own descriptions, so that the
/// docs cannot drift from the code: each checked-in copy stands between a
/// `BEGIN catalog:NAME` and an `END catalog:NAME` line, and a test re-renders every
/// one (`CatalogDocsTests`; `MWAD_UPDATE_DOCS=1` rewrites them and fails that run).
public enum CatalogDocs {
    /// Every block by name, as rendered from `catalog`.
    public static func blocks(_ catalog: Catalog = .shared) -> [String: String] {
        [
            "readme-methods": readmeMethods(catalog),
            "readme-layouts": readmeLayouts(),
            "reference-weightings": referenceWeightings(catalog),
            "reference-methods": referenceMethods(catalog),
            "yaml-methods": yamlList(catalog.methods.map { ($0.name, $0.help, $0.parameters) }, default: MergeSettings.defaultMethod),
            "python-methods": pythonMethods(catalog),
            "yaml-weightings": yamlList(catalog.weightings.map { ($0.name, "\($0.help): \($0.formula)", $0.parameters) },
                                        default: MergeSettings.defaultWeighting),
        ]
    }

    /// `text` with every marked block replaced by its rendering (unknown names kept):
    /// of `blocks`, or of this catalog's own.
    public static func update(_ text: String, catalog: Catalog = .shared, blocks given: [String: String]? = nil) -> String {
        let rendered = given ?? blocks(catalog)
        var out: [Substring] = []
        var skipping = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let name = marker(line, "BEGIN"), let block = rendered[name] {
                out.append(line)
                let indent = line.prefix { $0 == " " }
                // In a YAML or shell comment the block is comment lines; a `python-` block is code.
            let comment = line.trimmingCharacters(in: .whitespaces).hasPrefix("#") && !name.hasPrefix("python-") ? "\(indent)# " : ""
                out += block.split(separator: "\n", omittingEmptySubsequences: false).map { Substring(comment.isEmpty ? String($0) : (comment + $0).replacingOccurrences(of: " +$", with: "", options: .regularExpression)) }
                skipping = true
                continue
            }
            if skipping, marker(line, "END") != nil { skipping = false }
            if !skipping { out.append(line) }
        }
        return out.joined(separator: "\n")
    }

    /// The block name of a `BEGIN catalog:NAME` (or `END`) line, in Markdown or YAML.
    static func marker(_ line: Substring, _ word: String) -> String? {
        guard let range = line.range(of: "\(word) catalog:") else { return nil }
        return String(line[range.upperBound...].prefix { $0.isLetter || $0 == "-" })
    }

    /// The flags every merge setting has, in a synopsis's order: each method and its
    /// parameters, each weighting and its parameters (a shared one once), then the
    /// window, metric, smoothing and cap flags.
    public static func settingsSynopsis(_ catalog: Catalog) -> [String] {
        let fixed = SettingsText.fixed(catalog)
        func flag(_ name: String) -> String { fixed.first { $0.name == name }!.synopsis }
        var seen = Set<String>()
        func once(_ parameters: [MergeParameter]) -> [String] {
            parameters.filter { seen.insert($0.name).inserted }.map(\.synopsis)
        }
        return [flag("method")] + once(catalog.methods.flatMap(\.parameters)) + [flag("weighting")] + once(catalog.weightings.flatMap(\.parameters))
            + fixed.map(\.name).filter { !["method", "weighting"].contains($0) }.map(flag)
    }

    /// `head` and then `items`, wrapped at `width` columns under the first item.
    public static func wrap(_ head: String, _ items: [String], width: Int = 100) -> String {
        let indent = String(repeating: " ", count: head.count + 1)
        var lines: [String] = []
        var line = head
        for item in items {
            if line.count + 1 + item.count > width, line != head, line != indent {
                lines.append(line)
                line = indent + item
            } else {
                line += (line == indent ? "" : " ") + item
            }
        }
        return (lines + [line]).joined(separator: "\n")
    }

    private static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }

    private static func flags(_ parameters: [MergeParameter]) -> String {
        parameters.map { "`\($0.flag)`: \($0.help.hasSuffix(".") ? String($0.help.dropLast()) : $0.help)" }.joined(separator: "; ")
    }

    static func readmeMethods(_ catalog: Catalog) -> String {
        var rows = ["| kind | name | what it is | use it when |", "| --- | --- | --- | --- |"]
        for method in catalog.methods {
            let notes = [method.name == MergeSettings.defaultMethod ? "default" : nil, method.parameters.isEmpty ? nil : flags(method.parameters)].compactMap { $0 }
            rows.append("| method | `\(method.name)`\(notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))") | \(cell(method.help)) | \(cell(method.when)) |")
        }
        for weighting in catalog.weightings {
            let notes = [weighting.name == MergeSettings.defaultWeighting ? "default" : nil, weighting.parameters.isEmpty ? nil : flags(weighting.parameters)].compactMap { $0 }
            rows.append("| weighting | `\(weighting.name)`\(notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))") | \(cell(weighting.help)): \(cell(weighting.formula)) | \(cell(weighting.when)) |")
        }
        return rows.joined(separator: "\n")
    }

    static func readmeLayouts() -> String {
        var rows = ["| layout | trainers | a checkpoint (and its step) | complete when | loss from | published as |", "| --- | --- | --- | --- | --- | --- |"]
        for (layout, _) in LayoutCatalog.builtIn {
            rows.append("| `\(layout.name)` | " + [layout.trainers, layout.checkpoint, layout.completion, layout.metrics, layout.output].map(cell).joined(separator: " | ") + " |")
        }
        return rows.joined(separator: "\n")
    }

    static func referenceWeightings(_ catalog: Catalog) -> String {
        var rows = ["| weighting | weights | reads | parameters |", "| --- | --- | --- | --- |"]
        for weighting in catalog.weightings {
            let parameters = weighting.parameters.map { "`\($0.name)` (default \($0.defaultValue)): \($0.help)" }.joined(separator: " ")
            rows.append("| `\(weighting.name)` | \(cell(weighting.formula)) | \(weighting.readsMetric ? "`merge.metric`" : "steps only") | \(cell(parameters)) |")
        }
        return rows.joined(separator: "\n")
    }

    static func referenceMethods(_ catalog: Catalog) -> String {
        var rows = ["| method | the merge | it is | members it takes | DoRA | `adapter_config.json` | parameters |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for method in catalog.methods {
            let parameters = method.parameters.map { "`\($0.name)` (default \($0.defaultValue)): \($0.help)" }.joined(separator: " ")
            rows.append("| `\(method.name)` | \(cell(method.help)) | \(method.result.rawValue) | \(cell(method.needs)) | \(method.takesDoRA ? "yes" : "no") | \(cell(method.config)) | \(cell(parameters)) |")
        }
        return rows.joined(separator: "\n")
    }

    /// The methods for the real-client checks (`check-peft.py`, `check-layouts.py`):
    /// name → (what its merge is, whether it takes DoRA), in catalog order.
    static func pythonMethods(_ catalog: Catalog) -> String {
        (["# Rendered from the method catalog (RenderedDocsTests): name -> (MergeResult, takes DoRA).", "METHODS = {"]
            + catalog.methods.map { "    \"\($0.name)\": (\"\($0.result.rawValue)\", \($0.takesDoRA ? "True" : "False"))," } + ["}"])
            .joined(separator: "\n")
    }

    /// `name (default): help` lines with each parameter under it, for YAML comments.
    static func yamlList(_ entries: [(name: String, help: String, parameters: [MergeParameter])], default name: String) -> String {
        entries.map { entry in
            (["\(entry.name)\(entry.name == name ? " (default)" : ""): \(entry.help)"]
                + entry.parameters.map { "  \($0.name) (default \($0.defaultValue)): \($0.help)" }).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
