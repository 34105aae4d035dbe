import Foundation
import Ledger
import MWADTestKit
import Settings
import Status
import Testing

/// A ledger made by mwad's main branch on 2026-12-07 (`Tests/Fixtures/ledgers`): three
/// merges of the f32 run (the default ema/auto, loss/linear over 4, ema/svd rank 3), the
/// first evaluated with two candidates. Read by this build, its merges keep their
/// fingerprints and status shows them as that build did: a change to where the settings
/// value lives, or how it is coded, that moved a fingerprint would make every existing
/// daemon merge again (and call its merges made with other settings).
@Suite struct FingerprintStabilityTests {
    let dir = TemporaryDirectory("mwad-fingerprints")

    func ledger() throws -> String {
        let path = dir.file("ledger.sqlite")
        try FileManager.default.copyItem(atPath: "\(Fixtures.root)/ledgers/made-by-main-2026-12-07.sqlite", toPath: path)
        return path
    }

    static let now = ISO8601DateFormatter().date(from: "2026-12-07T16:00:00Z")!

    @Test func theRecordedFingerprintsAreReadBack() throws {
        let path = try ledger()
        let merges = try Ledger(path: path).mergeHistory().map(\.0)
        #expect(merges.map(\.fingerprint) == ["47bd2530b105a297", "d3ff1d154224c422", "056e0256f1a14bf0"])
        #expect(try LedgerReader(path: path).snapshot().run?.settings == merges.last?.settings)
    }

    @Test(arguments: [false, true]) func statusShowsItAsTheBuildThatMadeIt(_ all: Bool) throws {
        let path = try ledger()
        // The copies the machine that made it still had: all but step 50's (not this
        // machine's /tmp, which the report would otherwise look at).
        let report = StatusReport(ledger: path, snapshot: try LedgerReader(path: path).snapshot(), now: Self.now, all: all, words: Catalog.words,
                                  fileExists: { !$0.hasSuffix("/checkpoint-50") }) { _ in .stopped }
        let views = StatusViewTests()
        try views.expectGolden(HumanView.render(report).replacingOccurrences(of: path, with: "LEDGER"), "made-by-main\(all ? "-all" : "").txt")
        try views.expectGolden(report.json().replacingOccurrences(of: path, with: "LEDGER"), "made-by-main\(all ? "-all" : "").json")
    }
}
