import Foundation
import Settings
import Testing

/// The docs' tables of methods, weightings and layouts are what the catalogs render:
/// a description changed in the code and not in the docs (or the reverse) fails here.
/// `MWAD_UPDATE_DOCS=1 swift test --filter CatalogDocsTests` rewrites them and fails
/// that run, so that a re-rendering is looked at.
@Suite struct CatalogDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test(arguments: ["README.md", "docs/REFERENCE.md", "config/mwad.yaml"])
    func theCheckedInTablesAreWhatTheCatalogsRender(_ file: String) throws {
        let path = "\(Self.root)/\(file)"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("BEGIN catalog:"), "\(file) has no rendered block")
        // The built-in catalog: suites that register parts run alongside this one.
        let rendered = CatalogDocs.update(text, catalog: Catalog())
        if ProcessInfo.processInfo.environment["MWAD_UPDATE_DOCS"] == "1", rendered != text {
            try rendered.write(toFile: path, atomically: true, encoding: .utf8)
            Issue.record("re-rendered \(file): check the difference, then run again without MWAD_UPDATE_DOCS")
            return
        }
        let differing = zip(text.split(separator: "\n", omittingEmptySubsequences: false), rendered.split(separator: "\n", omittingEmptySubsequences: false))
            .first { $0 != $1 }
        #expect(rendered == text, "\(file) differs from the catalog's rendering at: \(differing.map { "\($0.0)\n  rendered: \($0.1)" } ?? "its length")")
    }

    /// Every block name a doc uses is one the renderer knows (a typo would keep a stale table).
    @Test func everyMarkedBlockIsRendered() throws {
        for file in ["README.md", "docs/REFERENCE.md", "config/mwad.yaml"] {
            let text = try String(contentsOfFile: "\(Self.root)/\(file)", encoding: .utf8)
            for line in text.split(separator: "\n") where line.contains("BEGIN catalog:") {
                let name = String(line[line.range(of: "BEGIN catalog:")!.upperBound...].prefix { $0.isLetter || $0 == "-" })
                #expect(CatalogDocs.blocks(Catalog())[name] != nil, "\(file): unknown block \(name)")
            }
        }
    }
}

/// The README's status sample shows the defaults as they are (it once showed an old
/// default weighting for months).
@Suite struct ReadmeSampleTests {
    @Test func theStatusSampleShowsTheDefaultSettings() throws {
        let readme = try String(contentsOfFile: "\(CatalogDocsTests.root)/README.md", encoding: .utf8)
        #expect(readme.contains("settings    \(MergeSettings().summary)\n"), "the README's status sample")
    }
}
