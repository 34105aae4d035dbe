import Foundation
import Status
import Ledger
import MWADTestKit
import SafeTensors
import Testing

/// Evaluation feedback with a deterministic evaluator (`Tests/Fixtures/evaluators/norm_eval.py`,
/// the root mean square of the adapter's values, standard library only).
@Suite struct EvaluationTests {
    static let evaluator = "\(Fixtures.root)/evaluators/norm_eval.py"

    /// These tests were written for every window, the one-member first one included
    /// (`eval.min_members` 1); ``oneMemberWindowsAreNotEvaluatedByDefault`` checks the default.
    func environment(_ live: LiveRun, _ extra: [String] = [], timeout: String = "60", candidates: String? = nil,
                     minMembers: String = "1") -> [String: String] {
        var environment = ["MWAD_EVAL_COMMAND": (["/usr/bin/python3", Self.evaluator] + extra).joined(separator: ","),
                           "MWAD_EVAL_TIMEOUT": timeout, "MWAD_EVAL_BEST_OUTPUT": live.dir.file("best"),
                           "XDG_STATE_HOME": live.dir.file("xdg"), "MWAD_EVAL_MIN_MEMBERS": minMembers]
        environment["MWAD_EVAL_CANDIDATES"] = candidates
        return environment
    }

    func once(_ live: LiveRun, _ environment: [String: String]) throws -> MWADProcess.Result {
        try MWADProcess.run(["run", "--watch", live.run, "--out", live.output, "--ledger", live.ledger, "--once", "--window", "3"],
                            environment: LiveRun.linearSettings.merging(environment) { $1 })
    }

    func copyFixture(_ live: LiveRun, steps: [Int]) throws {
        for step in steps { try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, step), toPath: "\(live.run)/checkpoint-\(step)") }
    }

    /// The RMS of an adapter's values, as the evaluator computes it.
    func rms(_ folder: String) throws -> Double { try TestAdapter.rms(ofFile: "\(folder)/adapter_model.safetensors") }

    @Test func scoresTheMergeTheNewestCheckpointAndCandidatesAndPublishesTheBest() throws {
        let live = try LiveRun()
        try copyFixture(live, steps: [10, 20, 30, 40])
        let result = try once(live, environment(live, candidates: "weighting=uniform;window=2"))
        #expect(result.status == 0, "\(result.stderr)")
        let snapshot = try #require(live.snapshot())
        let evaluations = snapshot.evaluations
        #expect(evaluations.map(\.target) == [.merge, .checkpoint, .candidate, .candidate])
        #expect(evaluations.allSatisfy { $0.status == .ok && $0.mergeID == 1 && $0.step == 40 && $0.metric == "eval_loss" })
        #expect(abs(evaluations[0].value! - (try rms(live.output))) < 1e-6)
        #expect(abs(evaluations[1].value! - (try rms(Fixtures.checkpoint(Fixtures.f32Run, 40)))) < 1e-9)
        #expect(evaluations[2].settings?.weighting == "uniform" && evaluations[3].settings?.window.count == 2)
        let best = try #require(evaluations.firstIndex { $0.best })
        #expect(best == evaluations.indices.min { evaluations[$0].value! < evaluations[$1].value! })
        #expect(snapshot.best?.evaluationID == evaluations[best].id && snapshot.best?.outputPath == live.dir.file("best"))
        // The best adapter is published with what it is and every score.
        #expect(abs((try rms(live.dir.file("best"))) - evaluations[best].value!) < 1e-6)
        let data = try Data(contentsOf: URL(fileURLWithPath: live.dir.file("best/mwa_best.json")))
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((manifest["chosen"] as? [String: Any])?["target"] as? String == evaluations[best].target.rawValue)
        #expect((manifest["scores"] as? [[String: Any]])?.count == 4)
        #expect(manifest["metric"] as? String == "eval_loss" && manifest["goal"] as? String == "minimize")
        #expect(manifest["window_step"] as? Int == 40 && manifest["run_newest_step"] as? Int == 40, "how fresh: \(manifest)")
        #expect(result.stderr.contains("evaluated merge #1 (steps 20–40, eval_loss, minimize): merge "))
        #expect(!FileManager.default.fileExists(atPath: live.dir.file("state/eval/merge-1")), "the frozen window is removed")
    }

    @Test(arguments: [
        (["--fail"], "exit status 3; stderr: loading the base model failed: out of memory"),
        (["--hang"], "timed out after 1 s"),
        (["--garbage"], "its last line is not a JSON object: eval loss is about three"),
    ])
    func aBrokenEvaluatorIsRecordedAndLoggedOnceAndMergesGoOn(_ mode: [String], _ error: String) throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: environment(live, mode, timeout: "1").merging(["MWAD_WATCH_DEBOUNCE": "0"]) { $1 })
        let writer = TrainerWriter(runDirectory: live.run)
        for step in [10, 20, 30] {
            try writer.save(step: step)
            #expect(live.waitForMerge(through: Int64(step)), "\(daemon.log)")
            #expect(DaemonProcess.waitUntil(timeout: 30) { live.snapshot()?.evaluations.contains { $0.step == Int64(step) } == true },
                    "\(daemon.log)")
        }
        #expect(daemon.process.isRunning)
        #expect(daemon.stop() == 0)
        let evaluations = try #require(live.snapshot()).evaluations
        #expect(evaluations.count == 6)
        #expect(evaluations.allSatisfy { $0.status == .failed && $0.value == nil && $0.error?.contains(error) == true },
                "\(evaluations.map { $0.error ?? "" })")
        #expect(daemon.log.components(separatedBy: "WARNING evaluation of").count - 1 == 1, "logged once: \(daemon.log)")
        #expect(!FileManager.default.fileExists(atPath: live.dir.file("best")), "nothing scored, nothing published")
    }

    /// A burst of windows while the evaluator is slow: the ones overtaken are skipped,
    /// the newest is evaluated, and nothing piles up.
    @Test func aBurstDoesNotQueueStaleEvaluations() throws {
        let live = try LiveRun()
        let log = live.dir.file("evaluator.log")
        let daemon = try live.start(environment: environment(live, ["--slow", "0.5", "--log", log]).merging(["MWAD_WATCH_DEBOUNCE": "0"]) { $1 })
        let writer = TrainerWriter(runDirectory: live.run)
        for step in stride(from: 10, through: 80, by: 10) {
            try writer.save(step: step)
            #expect(live.waitForMerge(through: Int64(step)), "\(daemon.log)")
        }
        // The newest window's rows (one transaction) end it: an overtaken window is never
        // queued behind the newest, so nothing is left to wait out before counting.
        #expect(DaemonProcess.waitUntil(timeout: 60) { live.snapshot()?.evaluations.contains { $0.step == 80 } == true }, "\(daemon.log)")
        #expect(daemon.stop() == 0)
        let snapshot = try #require(live.snapshot())
        let windows = Set(snapshot.evaluations.map(\.mergeID))
        let merges = try #require(snapshot.merge?.id)
        #expect(windows.count < Int(merges), "evaluated \(windows.sorted()) of \(merges) merges")
        #expect(windows.contains(merges), "the newest window is evaluated")
        // Each skipped window at debug only; a count at info when an evaluation runs.
        #expect(!daemon.log.contains("skipped: merge #"), "\(daemon.log)")
        #expect(daemon.log.contains("older windows were skipped since the last evaluation") || daemon.log.contains("1 older window was skipped"), "\(daemon.log)")
        let calls = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        // Two per window, but one for merge #1: its one member is the merge (scored once).
        #expect(calls.count == windows.count * 2 - (windows.contains(1) ? 1 : 0), "\(calls)")
    }

    /// By default a one-member window (the first checkpoint's) is not evaluated: its
    /// merge is that checkpoint, which the next window evaluates anyway.
    @Test func oneMemberWindowsAreNotEvaluatedByDefault() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: environment(live, minMembers: "2").merging(["MWAD_WATCH_DEBOUNCE": "0"]) { $1 })
        let writer = TrainerWriter(runDirectory: live.run)
        try writer.save(step: 10)
        #expect(live.waitForMerge(through: 10), "\(daemon.log)")
        try writer.save(step: 20)
        #expect(live.waitForMerge(through: 20), "\(daemon.log)")
        #expect(DaemonProcess.waitUntil(timeout: 30) { live.snapshot()?.evaluations.contains { $0.step == 20 } == true }, "\(daemon.log)")
        #expect(daemon.stop() == 0)
        let evaluations = try #require(live.snapshot()).evaluations
        #expect(Set(evaluations.map(\.step)) == [20], "the one-member window of step 10 was not evaluated: \(evaluations.map(\.step))")
    }

    /// Saves outpacing a slow evaluator: each evaluation takes the newest window waiting,
    /// never a one-member one, windows are evaluated in step order, and status says how
    /// old the best is.
    @Test func aSlowEvaluatorTakesTheNewestWindowAndStatusSaysTheBestsAge() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: environment(live, ["--slow", "0.6"], minMembers: "2").merging(["MWAD_WATCH_DEBOUNCE": "0"]) { $1 })
        let writer = TrainerWriter(runDirectory: live.run)
        for step in stride(from: 10, through: 100, by: 10) {
            try writer.save(step: step)
            #expect(live.waitForMerge(through: Int64(step)), "\(daemon.log)")
        }
        #expect(DaemonProcess.waitUntil(timeout: 60) { live.snapshot()?.evaluations.contains { $0.step == 100 } == true }, "\(daemon.log)")
        #expect(daemon.stop() == 0)
        let snapshot = try #require(live.snapshot())
        let order = snapshot.evaluations.filter { $0.target == .merge }.sorted { ($0.id ?? 0) < ($1.id ?? 0) }.map(\.step)
        #expect(!order.contains(10), "the one-member window is not evaluated: \(order)")
        #expect(order == order.sorted() && order.count < 9, "newest waiting window each time, some skipped: \(order)")
        let status = try MWADProcess.run(["status", "--ledger", live.ledger]).stdout
        #expect(status.contains("from the window ending at step 100; the run is at step 100 (the newest evaluated window)"), "\(status)")
    }

    @Test func aRestartDoesNotEvaluateAgainWhatTheLedgerHolds() throws {
        let live = try LiveRun()
        let log = live.dir.file("evaluator.log")
        try copyFixture(live, steps: [10, 20, 30])
        #expect(try once(live, environment(live, ["--log", log])).status == 0)
        #expect(try once(live, environment(live, ["--log", log])).status == 0)
        let calls = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(calls == ["merge 30 1", "checkpoint 30 1"])
        #expect(try #require(live.snapshot()).evaluations.count == 2)
    }

    /// Each distinct adapter is scored once per window: a one-member window's merges
    /// are its checkpoint, and a candidate that makes the same tensors as the merge
    /// (an automatic EMA half-life equal to the one given) is the merge. Ties count
    /// as ties, not as wins of the merge.
    @Test(.enabled(if: LAPACKInstalled.here, Comment(rawValue: LAPACKInstalled.reason))) func eachDistinctAdapterIsScoredOnceAndTiesAreTies() throws {
        let live = try LiveRun()
        let log = live.dir.file("evaluator.log")
        try copyFixture(live, steps: [10])
        let settings = ["MWAD_MERGE_METHOD": "delta", "MWAD_MERGE_WEIGHTING": "ema", "MWAD_MERGE_WINDOW": "3"]
        let candidates = "method=svd;weighting=ema,half_life=20;method=linear,weighting=uniform"
        #expect(try once(live, environment(live, ["--log", log], candidates: candidates).merging(settings) { $1 }).status == 0)
        var calls = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(calls == ["merge 10 1"], "one member: every merge is checkpoint-10, scored once (\(calls))")
        var evaluations = try #require(live.snapshot()).evaluations
        #expect(evaluations.count == 5 && Set(evaluations.map(\.value)).count == 1)
        try copyFixture(live, steps: [20, 30])
        let second = try once(live, environment(live, ["--log", log], candidates: candidates).merging(settings) { $1 })
        #expect(second.status == 0, "\(second.stderr)")
        calls = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        // merge, checkpoint, svd, linear; ema with half_life 20 is the merge (auto: two saves of 10).
        #expect(calls.dropFirst() == ["merge 30 2", "checkpoint 30 2", "candidate 30 2", "candidate 30 2"], "\(calls)\n\(second.stderr)")
        evaluations = try #require(live.snapshot()).evaluations.filter { $0.mergeID == 2 }
        #expect(evaluations.count == 5 && evaluations[0].value == evaluations[3].value)
        // svd's rank 0 is recorded as the rank it took (the members' r = 8), not as 0.
        let svd = evaluations.first { $0.settings?.method == "svd" }?.settings
        #expect(svd?.parameters["rank"]?.number == 8 && svd?.brief.contains("rank 8") == true, "\(String(describing: svd))")
        let status = try #require(StatusReport.decode(Data(try MWADProcess.run(["status", "--ledger", live.ledger, "--json"]).stdout.utf8)).evaluationSummary)
        #expect(status.windows == 1 && status.mergeTied == 1 && status.wins["tie"] == 1, "\(status)")
    }
}

/// The newest checkpoint is named as its trainer named it, whatever the layout.
@Suite struct EvaluationLabelTests {
    @Test func aKohyaCheckpointIsLabelledByItsFileName() throws {
        let base = EvaluationTests()
        let live = try LiveRun()
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixtures.root + "/flat-kohya") {
            try FileManager.default.copyItem(atPath: "\(Fixtures.root)/flat-kohya/\(name)", toPath: "\(live.run)/\(name)")
        }
        let result = try base.once(live, base.environment(live, minMembers: "2"))
        #expect(result.status == 0, "\(result.stderr)")
        let evaluations = try #require(live.snapshot()).evaluations
        #expect(evaluations.map(\.label) == ["merge", "pixel-step00000040.safetensors"], "\(evaluations.map(\.label))")
        let status = try MWADProcess.run(["status", "--ledger", live.ledger])
        #expect(status.stdout.contains("pixel-step00000040.safetensors"), "\(status.stdout)")
    }
}
