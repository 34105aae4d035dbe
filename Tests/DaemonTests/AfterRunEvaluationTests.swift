import Foundation
import Ledger
import MWADTestKit
import Testing

/// `mwad eval`: the windows of a finished run scored afterwards, from the retained
/// copies, as the live gate scores them. The real F32 trainer run, replayed save by
/// save under the default merge (auto → delta, ema, window 3, through the running sum).
@Suite struct AfterRunEvaluationTests {
    let base = EvaluationTests()
    static let defaults = ["MWAD_MERGE_METHOD": "auto", "MWAD_MERGE_WEIGHTING": "ema", "MWAD_MERGE_WINDOW": "3", "MWAD_WATCH_DEBOUNCE": "0"]
    static let steps = Array(stride(from: 10, through: 80, by: 10))

    /// Replays the fixture run into `live`, each save merged (and, with an evaluator,
    /// evaluated) before the next; stops the daemon.
    func replay(_ live: LiveRun, _ environment: [String: String], evaluated: Bool) throws {
        let daemon = try live.start(environment: Self.defaults.merging(environment) { $1 })
        for step in Self.steps {
            let staging = live.dir.file("staging-\(step)")
            try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, step), toPath: staging)
            try FileManager.default.moveItem(atPath: staging, toPath: "\(live.run)/checkpoint-\(step)")
            #expect(live.waitForMerge(through: Int64(step)), "\(daemon.log)")
            if evaluated && step > 10 {
                #expect(DaemonProcess.waitUntil(timeout: 60) { live.snapshot()?.evaluations.contains { $0.step == Int64(step) } == true },
                        "\(daemon.log)")
            }
        }
        #expect(daemon.stop() == 0)
    }

    func eval(_ live: LiveRun, _ environment: [String: String], _ extra: [String] = []) throws -> MWADProcess.Result {
        try MWADProcess.run(["eval", "--ledger", live.ledger] + extra, environment: Self.defaults.merging(environment) { $1 })
    }

    @Test func fillsEveryWindowWithTheScoresTheLiveGateGives() throws {
        let gated = try LiveRun(), after = try LiveRun()
        try replay(gated, base.environment(gated, minMembers: "2"), evaluated: true)
        // Evaluation off: the copies are kept only because eval.retain says all.
        try replay(after, ["MWAD_EVAL_RETAIN": "all", "XDG_STATE_HOME": after.dir.file("xdg")], evaluated: false)
        #expect(try #require(after.snapshot()).evaluations.isEmpty)

        let result = try eval(after, base.environment(after, minMembers: "2"))
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("merge #1 (step 10): not a window to evaluate"), "\(result.stdout)")
        #expect(result.stdout.contains("7 of 7 windows scored (7 now); the best adapter: \(after.dir.file("best"))"), "\(result.stdout)")

        let live = try #require(gated.snapshot()), late = try #require(after.snapshot())
        #expect(live.evaluations.count == 14 && late.evaluations.count == 14, "merge and checkpoint for each of 7 windows")
        for evaluation in live.evaluations {
            let same = late.evaluations.first { $0.step == evaluation.step && $0.target == evaluation.target }
            #expect(same?.value == evaluation.value && same?.label == evaluation.label && same?.best == evaluation.best,
                    "step \(evaluation.step) \(evaluation.label): live \(evaluation.value ?? .nan), after \(same?.value ?? .nan)")
        }
        // The best adapter is the newest window's, as the live gate left it.
        let best = try #require(late.best), liveBest = try #require(live.best)
        #expect(late.evaluations.first { $0.id == best.evaluationID }?.step == 80)
        #expect(live.evaluations.first { $0.id == liveBest.evaluationID }?.step == 80)
        let published = try #require(FileManager.default.contents(atPath: after.dir.file("best/adapter_model.safetensors")))
        #expect(published == FileManager.default.contents(atPath: gated.dir.file("best/adapter_model.safetensors")))

        // Again: nothing left to score, and that is success.
        let again = try eval(after, base.environment(after, minMembers: "2"))
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("merge #8 (steps 60–80): already scored (merge "), "\(again.stdout)")
        #expect(again.stdout.contains("7 of 7 windows scored (0 now)"), "\(again.stdout)")
        #expect(try #require(after.snapshot()).evaluations.count == 14)
    }

    /// An older window scored after a newer one keeps the newer window's best, and
    /// `--last` limits the windows.
    @Test func anOlderWindowNeverReplacesTheBestOfANewerOne() throws {
        let after = try LiveRun()
        try replay(after, ["MWAD_EVAL_RETAIN": "all", "XDG_STATE_HOME": after.dir.file("xdg")], evaluated: false)
        let environment = base.environment(after, minMembers: "2")
        let newest = try eval(after, environment, ["--last", "1"])
        #expect(newest.status == 0, "\(newest.stdout)\(newest.stderr)")
        #expect(newest.stdout.contains("1 of 1 window scored (1 now)"), "\(newest.stdout)")
        let before = try #require(FileManager.default.contents(atPath: after.dir.file("best/mwa_best.json")))
        let rest = try eval(after, environment)
        #expect(rest.status == 0, "\(rest.stdout)\(rest.stderr)")
        #expect(rest.stdout.contains("7 of 7 windows scored (6 now)"), "\(rest.stdout)")
        #expect(rest.stderr.contains("keeps the best of merge #8, a newer window"), "\(rest.stderr)")
        #expect(FileManager.default.contents(atPath: after.dir.file("best/mwa_best.json")) == before, "best_output untouched")
        let snapshot = try #require(after.snapshot())
        #expect(snapshot.evaluations.first { $0.id == snapshot.best?.evaluationID }?.mergeID == 8)
        // Status shows the newest window's evaluation, although it was recorded first.
        let status = try MWADProcess.run(["status", "--ledger", after.ledger, "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let shown = (json["evaluations"] as? [[String: Any]])?.compactMap { $0["merge_id"] as? Int }
        #expect(shown == [8, 8], "\(status.stdout)")
    }

    /// Copies deleted at eviction (eval.retain: window) or changed since (step 70's, in
    /// the windows ending at 70 and 80): those windows
    /// are not scored, each saying why, and the exit status says so.
    @Test func windowsThatCannotBeRemadeAreNamedAndFail() throws {
        let evicted = try LiveRun()
        try replay(evicted, ["MWAD_EVAL_RETAIN": "window", "XDG_STATE_HOME": evicted.dir.file("xdg")], evaluated: false)
        let result = try eval(evicted, base.environment(evicted, minMembers: "2"))
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("merge #7 (steps 50–70): not scored: checkpoint-50's retained copy is gone (mwad deletes a copy once no window holds it, unless eval.retain is all"),
                "\(result.stdout)")
        #expect(result.stdout.contains("merge #8 (steps 60–80): scored: merge "), "\(result.stdout)")
        #expect(result.stdout.contains("1 of 7 windows scored (1 now)"), "\(result.stdout)")
        #expect(result.stderr.contains("6 windows could not be scored"), "\(result.stderr)")

        let changed = try LiveRun()
        try replay(changed, ["MWAD_EVAL_RETAIN": "all", "XDG_STATE_HOME": changed.dir.file("xdg")], evaluated: false)
        let row = try #require(changed.snapshot()?.checkpoints.first { $0.step == 70 })
        let file = "\(try #require(row.retainedPath))/adapter_model.safetensors"
        var bytes = try #require(FileManager.default.contents(atPath: file))
        bytes[bytes.count - 2] ^= 0x40  // a value of the last tensor, not its header
        try bytes.write(to: URL(fileURLWithPath: file))
        let remade = try eval(changed, base.environment(changed, minMembers: "2"))
        #expect(remade.status == 1, "\(remade.stdout)\(remade.stderr)")
        #expect(remade.stdout.contains("merge #7 (steps 50–70): not scored: re-made from the retained copies with the recorded settings, the merge is not the one published"),
                "\(remade.stdout)")
        #expect(remade.stdout.contains("merge #6 (steps 40–60): scored: "), "\(remade.stdout)")
        #expect(remade.stdout.contains("merge #8 (steps 60–80): not scored: re-made"), "\(remade.stdout)")
        #expect(remade.stdout.contains("5 of 7 windows scored (5 now)"), "\(remade.stdout)")
    }

    /// A kohya run, whose merge is one file carrying its manifest (creation time
    /// included) in its metadata: re-made bit-equal all the same.
    @Test func aSingleFileRunIsRemadeBitEqual() throws {
        let live = try LiveRun()
        let kohya = Fixtures.root + "/flat-kohya"
        try FileManager.default.copyItem(atPath: "\(kohya)/logs", toPath: "\(live.run)/logs")
        let environment = ["MWAD_EVAL_RETAIN": "all", "XDG_STATE_HOME": live.dir.file("xdg")]
        let daemon = try live.start(environment: Self.defaults.merging(environment) { $1 })
        for step in [10, 20, 30, 40] {
            let name = String(format: "pixel-step%08d.safetensors", step)
            try FileManager.default.copyItem(atPath: "\(kohya)/\(name)", toPath: live.dir.file(name))
            try FileManager.default.moveItem(atPath: live.dir.file(name), toPath: "\(live.run)/\(name)")
            #expect(live.waitForMerge(through: Int64(step)), "\(daemon.log)")
            Thread.sleep(forTimeInterval: 1.1)  // merges in other seconds: the manifest's time differs
        }
        #expect(daemon.stop() == 0)
        let result = try eval(live, base.environment(live, minMembers: "2"))
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("3 of 3 windows scored (3 now)"), "\(result.stdout)")
        #expect(result.stdout.contains("pixel-step00000040.safetensors "), "\(result.stdout)")
    }

    /// The daemon writes the same rows and best adapter: mwad eval refuses while it runs.
    @Test func refusedWhileADaemonHoldsTheLedger() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: Self.defaults.merging(["MWAD_EVAL_RETAIN": "all"]) { $1 })
        let result = try eval(live, base.environment(live, minMembers: "2"))
        #expect(result.status == 1)
        #expect(result.stderr.contains("mwad eval writes the scores and the best adapter that daemon's own evaluation writes"), "\(result.stderr)")
        #expect(result.stderr.contains("\(daemon.process.processIdentifier)"), "names the daemon: \(result.stderr)")
        #expect(daemon.stop() == 0)
        let none = try eval(live, [:])
        #expect(none.status == 78, "\(none.stderr)")
        #expect(none.stderr.contains("eval.command"), "\(none.stderr)")
    }
}
