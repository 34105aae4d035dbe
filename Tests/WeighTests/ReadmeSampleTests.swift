import Foundation
import Settings
import Testing

// The rendered docs' blocks are checked in CLITests (RenderedDocsTests): the renderer
// sees every catalog there, publication targets and the commands' synopses too.

/// The README's status sample shows the defaults as they are (it once showed an old
/// default weighting for months).
@Suite struct ReadmeSampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func theStatusSampleShowsTheDefaultSettings() throws {
        let readme = try String(contentsOfFile: "\(ReadmeSampleTests.root)/README.md", encoding: .utf8)
        #expect(readme.contains("settings    \(MergeSettings().summary)\n"), "the README's status sample")
    }
}
