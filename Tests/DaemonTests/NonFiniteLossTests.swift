import Daemon
import Foundation
import Ledger
import Logging
import MWADTestKit
import Publish
import Settings
import Status
import Testing

/// A trainer that logged a loss of `Infinity` (Python's json writes it bare), merged
/// with a weighting that does not read the loss: the daemon publishes the merge, its
/// manifest says the loss as Python's json names it, and status reads it. (The manifest
/// encoder once trapped on it: the daemon died.)
@Suite struct NonFiniteLossTests {
    let dir = TemporaryDirectory("mwad-inf")

    @Test func anInfiniteLossIsMergedAndShownNotACrash() async throws {
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        for step in [10, 20] {
            let folder = "\(run)/checkpoint-\(step)"
            try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, step), toPath: folder)
            let state = try String(contentsOfFile: "\(folder)/trainer_state.json", encoding: .utf8)
            let infinite = state.replacingOccurrences(of: #""loss": [0-9.eE+-]+"#, with: #""loss": Infinity"#, options: .regularExpression)
            #expect(infinite != state)
            try infinite.write(toFile: "\(folder)/trainer_state.json", atomically: true, encoding: .utf8)
        }
        let config = try await ConfigLoader.load(file: nil, environment: [:], flags: [
            "watch.directory": run, "state_directory": dir.file("state"), "merge.weighting": "uniform", "merge.window": "2",
        ])
        let ledger = try Ledger(path: config.ledger)
        let engine = DaemonEngine(config: config, ledger: ledger, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                                  notifier: SystemdNotifier(environment: [:]))
        #expect(await engine.runOnce().reflected)
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(run)/mwa-merged/mwa_merge.json"))
        #expect(String(decoding: data, as: UTF8.self).contains(#""metric" : "Infinity""#))
        let manifest = try MergeManifest.decode(data)
        #expect(manifest.members.map(\.metricValue) == [.infinity, .infinity])
        #expect(manifest.members.map(\.weight) == [0.5, 0.5])
        let report = StatusReport(ledger: config.ledger, snapshot: try LedgerReader(path: config.ledger).snapshot(), now: Date(), all: false, words: Catalog.words) {
            DaemonState.of($0, now: Date(), host: "h", processExists: { _ in false })
        }
        #expect(report.json().contains("inf"))
    }
}
