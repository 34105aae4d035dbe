import Foundation
import Ledger
import MetricsExport
import MWADTestKit
import Status
import Testing
import Settings
import Weigh

@Suite struct StatusViewTests {
    let dir = TemporaryDirectory()

    /// Evicted checkpoints that no merge ever held (ingested and evicted between two
    /// merges, as in a burst at the speed limit) are counted apart; those a merge held are not.
    @Test func evictedCheckpointsNoMergeHeldAreCounted() throws {
        let path = try StatusFixture.make(in: dir)
        var snapshot = try LedgerReader(path: path).snapshot()
        #expect(StatusReport(ledger: path, snapshot: snapshot, now: StatusFixture.now, all: false, words: Catalog.words) { _ in .running }.counts.neverMerged == 5)
        let evicted = snapshot.checkpoints.filter { $0.status == .evicted }.compactMap(\.id)
        snapshot.everMerged.formUnion(evicted.suffix(2))
        let report = StatusReport(ledger: path, snapshot: snapshot, now: StatusFixture.now, all: false, words: Catalog.words) { _ in .running }
        #expect(report.counts.evicted == 5 && report.counts.neverMerged == 3)
        #expect(HumanView.render(report).contains("5 evicted, 3 of them never in a merge: ingested and evicted between two merges) · "))
    }

    /// A checkpoint the user's evaluator scored shows its eval_loss in the table of
    /// every checkpoint where the trainer logged none.
    @Test func theEvaluatorsScoreOfACheckpointFillsItsEvalLoss() throws {
        let path = try StatusFixture.make(in: dir)
        let ledger = try Ledger(path: path, run: "/data/runs/llama")
        let merge = try #require(try ledger.lastMerge())
        try ledger.record(evaluations: [EvaluationRecord(mergeID: merge.id!, target: .checkpoint, step: 70, metric: "eval_loss", value: 3.7771,
                                                         status: .ok, startedAt: StatusFixture.now, durationSeconds: 1)],
                          best: nil, bestOutput: nil)
        let snapshot = try LedgerReader(path: path).snapshot()
        let report = StatusReport(ledger: path, snapshot: snapshot, now: StatusFixture.now, all: true, words: Catalog.words) { _ in .running }
        #expect(report.checkpoints?.first { $0.step == 70 }?.evalLoss == 3.7771)
        #expect(report.checkpoints?.first { $0.step == 50 }?.evalLoss == nil)
        #expect(HumanView.render(report).contains("  70  checkpoint-70  ingested    3.720000   3.777100"), "\(HumanView.render(report))")
    }

    /// The best adapter says how old it is, and warns once it is more than five saves
    /// behind the run (an evaluator slower than the saves).
    @Test func theBestSaysHowFreshItIs() throws {
        let path = try StatusFixture.make(in: dir)
        let ledger = try Ledger(path: path, run: "/data/runs/llama")
        for step in stride(from: 100, through: 160, by: 10) {
            try ledger.record(CheckpointRecord(step: Int64(step), sourcePath: "/data/runs/llama/checkpoint-\(step)", adapterSHA256: "\(step)",
                                               status: .ingested, discoveredAt: StatusFixture.now))
        }
        let report = StatusReport(ledger: path, snapshot: try LedgerReader(path: path).snapshot(), now: StatusFixture.now, all: false, words: Catalog.words) { _ in .running }
        let best = try #require(report.best)
        #expect(best.step == 80 && best.runNewestStep == 160 && best.savesBehind == 7, "\(best)")
        let text = HumanView.render(report)
        #expect(text.contains("from the window ending at step 80; the run is at step 160, 7 saves later"), "\(text)")
        #expect(text.contains("stale: the best is more than 5 saves behind the run"))
        // The metrics say it too, for an alert.
        let metrics = MetricsSnapshot.exposition(try LedgerReader(path: path).snapshot(), up: true, words: Catalog.words, now: StatusFixture.now)
        #expect(metrics.contains("mwad_best_window_step{run=\"/data/runs/llama\"} 80.0"), "\(metrics)")
        #expect(metrics.contains("mwad_best_saves_behind{run=\"/data/runs/llama\"} 7.0"))
        // eval.stale_after, as the daemon recorded it with the run: 10 saves, so not stale yet.
        let run = try #require(try ledger.run())
        try ledger.registerRun(watch: run.watchPath, output: run.outputPath, settings: run.settings,
                               evaluation: RunEvaluation(command: "eval", bestOutput: "/b", staleAfter: 10).text)
        let relaxed = StatusReport(ledger: path, snapshot: try LedgerReader(path: path).snapshot(), now: StatusFixture.now, all: false, words: Catalog.words) { _ in .running }
        #expect(relaxed.best?.staleAfter == 10 && !HumanView.render(relaxed).contains("stale:"))
    }

    /// The run summary leaves out windows whose merge is their checkpoint (one member,
    /// the same score), says which steps it covers, and adds the last quarter.
    @Test func theSummaryCountsRealWindowsAndTheLastQuarter() throws {
        let path = try StatusFixture.make(in: dir)  // merge #1: −0.78 % at step 80
        let ledger = try Ledger(path: path, run: "/data/runs/llama")
        let ids = try ledger.checkpoints().compactMap(\.id)
        // (step, merge, checkpoint): a one-member tie, a loss early, wins late.
        for (step, merge, newest) in [(90, 3.5, 3.5), (100, 3.6, 3.5), (110, 3.49, 3.5), (120, 3.48, 3.5)] {
            let record = try ledger.record(merge: MergeRecord(createdAt: StatusFixture.now, settings: MergeSettings().effective, outputPath: "/o",
                                                              outputSHA256: "x", durationSeconds: 1),
                                           members: [MergeMemberInput(checkpointID: ids[0], weight: 1, metricValue: nil)])
            try ledger.record(evaluations: [.merge, .checkpoint].map { target in
                EvaluationRecord(mergeID: record.id!, target: target, step: Int64(step), metric: "eval_loss", value: target == .merge ? merge : newest,
                                 status: .ok, startedAt: StatusFixture.now, durationSeconds: 1)
            }, best: nil, bestOutput: nil)
        }
        let report = StatusReport(ledger: path, snapshot: try LedgerReader(path: path).snapshot(), now: StatusFixture.now, all: false, words: Catalog.words) { _ in .running }
        let summary = try #require(report.evaluationSummary)
        #expect(summary.windows == 4 && summary.mergeTied == 1 && summary.mergeBetter == 3, "\(summary)")
        #expect(summary.fromStep == 80 && summary.toStep == 120)
        #expect(summary.lastQuarter?.fromStep == 110 && summary.lastQuarter?.windows == 2 && summary.lastQuarter?.mergeBetter == 2)
        let text = HumanView.render(report)
        #expect(text.contains("over the run: merge better than the newest checkpoint in 3 of 4 windows at steps 80–120"), "\(text)")
        #expect(text.contains("; 1 of one member (the merge is its checkpoint) not counted"))
        #expect(text.contains("last quarter (steps ≥ 110): better in 2 of 2 (mean Δ -0.43 %)"), "\(text)")
    }

    func report(all: Bool = false) throws -> StatusReport {
        let path = try StatusFixture.make(in: dir)
        let snapshot = try LedgerReader(path: path).snapshot()
        return StatusReport(ledger: "/var/lib/mwad/llama/ledger.sqlite", snapshot: snapshot, now: StatusFixture.now, all: all, words: Catalog.words) {
            DaemonState.of($0, now: StatusFixture.now, host: "gpu01", processExists: { _ in true })
        }
    }

    /// Compares with `Golden/NAME`; `MWAD_UPDATE_GOLDEN=1 swift test` rewrites it, and
    /// fails that run (as swift-argument-parser's snapshots do), so that a re-recording
    /// is looked at and never passes unseen.
    func expectGolden(_ text: String, _ name: String) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)").path
        if ProcessInfo.processInfo.environment["MWAD_UPDATE_GOLDEN"] == "1" {
            try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            Issue.record("re-recorded Golden/\(name): check the difference, then run again without MWAD_UPDATE_GOLDEN")
        }
        let golden = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text + "\n" == golden)
    }

    @Test func humanView() throws {
        try expectGolden(HumanView.render(try report()), "status.txt")
    }

    /// The JSON view, evaluations and best included (generated at a fixed time).
    @Test func jsonView() throws {
        try expectGolden(try report().json(), "status.json")
    }

    @Test func humanViewWithEveryCheckpoint() throws {
        try expectGolden(HumanView.render(try report(all: true)), "status-all.txt")
    }

    @Test func jsonRoundTripsAndIsConsistent() throws {
        let report = try report(all: true)
        let decoded = try StatusReport.decode(Data(report.json().utf8))
        #expect(decoded.schema == 1)
        #expect(decoded.daemon.state == .running)
        #expect(decoded.daemon.heartbeatAgeSeconds == 4)
        #expect(decoded.counts.ingested == 3 && decoded.counts.evicted == 5 && decoded.counts.rejected == 1 && decoded.counts.missed == 1)
        #expect(decoded.missed.map(\.step) == [85])
        let merge = try #require(decoded.merge)
        #expect(merge.members.map(\.step) == [60, 70, 80])
        #expect(abs(merge.members.map(\.weight).reduce(0, +) - 1) < 1e-5)
        #expect(decoded.rejected.map(\.name) == ["checkpoint-90"])
        #expect(decoded.losses.count == 8)
        #expect(decoded.checkpoints?.count == 10)
        #expect(merge.smoothing == 1 && merge.settings == MergeSettings(window: 3, weighting: "loss", penalty: 1) && merge.madeWithSettingsInForce)
        #expect(merge.fingerprint == MergeSettings(window: 3, weighting: "loss", penalty: 1).fingerprint)
        #expect(decoded.lastIngested?.step == 80)
    }

    @Test func jsonKeysAreSnakeCase() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try report().json().utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["schema", "schema_minor", "ledger", "generated_at", "run", "daemon", "counts", "last_ingested",
                                     "merge", "rejected", "missed", "skipped", "losses", "evaluations", "evaluation_summary", "best"])
        let evaluations = try #require(object["evaluations"] as? [[String: Any]])
        #expect(evaluations.map { $0["target"] as? String } == ["merge", "checkpoint", "candidate", "candidate"])
        #expect(Set(evaluations[0].keys).isSuperset(of: ["target", "merge_id", "step", "metric", "value", "status", "started",
                                                         "duration_seconds", "vs_checkpoint_percent", "best"]))
        #expect((evaluations[2]["settings"] as? [String: Any])?["weighting"] as? String == "uniform")
        let best = try #require(object["best"] as? [String: Any])
        #expect(best["target"] as? String == "candidate" && best["output"] as? String == "/data/runs/llama-best")
        let summary = try #require(object["evaluation_summary"] as? [String: Any])
        #expect(summary["windows"] as? Int == 1 && summary["merge_better"] as? Int == 1)
        let merge = try #require(object["merge"] as? [String: Any])
        #expect(merge["output_sha256"] is String)
        let member = try #require((merge["members"] as? [[String: Any]])?.first)
        #expect(Set(member.keys) == ["checkpoint_id", "step", "name", "metric", "weight"])
        let settings = try #require(merge["settings"] as? [String: Any])
        #expect(Set(settings.keys) == ["window", "weighting", "penalty", "metric", "smoothing", "method"])
        #expect(merge["smoothing"] as? Int == 1 && merge["fingerprint"] is String && merge["made_with_settings_in_force"] as? Bool == true)
    }

    /// The configuration changed after the merge was published: status says the merge
    /// was made with other settings, and which.
    @Test func saysWhenTheSettingsInForceDiffer() throws {
        let path = try StatusFixture.make(in: dir)
        try Ledger(path: path).registerRun(watch: "/data/runs/llama", output: "/data/runs/llama-mwa",
                                           settings: MergeSettings(window: 3, weighting: "loss", penalty: 1, smoothing: 4))
        let report = StatusReport(ledger: path, snapshot: try LedgerReader(path: path).snapshot(), now: StatusFixture.now, all: false, words: Catalog.words) {
            DaemonState.of($0, now: StatusFixture.now, host: "gpu01", processExists: { _ in true })
        }
        #expect(report.merge?.madeWithSettingsInForce == false)
        #expect(report.merge?.smoothing == 1)
        let text = HumanView.render(report)
        #expect(text.contains("settings    loss weighting on train_loss (penalty 1) · auto method · window the last 3 · smoothing 4"), "\(text)")
        #expect(text.contains("made with loss weighting on train_loss (penalty 1) · auto method · window the last 3 (fingerprint \(MergeSettings(window: 3, weighting: "loss", penalty: 1).fingerprint))"), "\(text)")
        #expect(text.contains("the settings in force differ"))
    }
}
