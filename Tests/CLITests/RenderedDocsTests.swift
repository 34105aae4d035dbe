import ArgumentParser
@testable import CLI
import Foundation
import Settings
import Testing

/// The docs' tables (methods, weightings, layouts, publication targets) and the
/// commands' synopses are what the catalogs render: a description changed in the code
/// and not in the docs (or the reverse) fails here. `MWAD_UPDATE_DOCS=1 swift test
/// --filter RenderedDocsTests` rewrites them and fails that run, so that a re-rendering
/// is looked at.
@Suite struct RenderedDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let files = ["README.md", "docs/REFERENCE.md", "config/mwad.yaml", "scripts/check-peft.py", "scripts/check-layouts.py"]

    @Test(arguments: files)
    func theCheckedInBlocksAreWhatTheCatalogsRender(_ file: String) throws {
        let path = "\(Self.root)/\(file)"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("BEGIN catalog:"), "\(file) has no rendered block")
        // The built-in catalog: suites that register parts run alongside this one.
        let rendered = RenderedDocs.update(text, catalog: Catalog())
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
        for file in Self.files {
            let text = try String(contentsOfFile: "\(Self.root)/\(file)", encoding: .utf8)
            for line in text.split(separator: "\n") where line.contains("BEGIN catalog:") {
                let name = String(line[line.range(of: "BEGIN catalog:")!.upperBound...].prefix { $0.isLetter || $0 == "-" })
                #expect(RenderedDocs.blocks(Catalog())[name] != nil, "\(file): unknown block \(name)")
            }
        }
    }

    /// Every flag a synopsis shows is one the command takes (its `--help` names it).
    @Test(arguments: ["merge-synopsis", "run-synopsis"])
    func everySynopsisFlagIsTheCommands(_ block: String) throws {
        let help = block == "merge-synopsis" ? MWADCommand.helpMessage(for: MergeCommand.self, columns: 400)
            : MWADCommand.helpMessage(for: RunCommand.self, columns: 400)
        let text = try #require(RenderedDocs.blocks(Catalog())[block])
        let flags = text.matches(of: /\[(--[a-z-]+)/).map { String($0.1) }
        #expect(flags.count > 15)
        for flag in flags { #expect(help.contains(flag), "\(block): \(flag) is not an option of the command") }
    }
}
