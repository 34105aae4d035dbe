import Foundation
import Ledger
import MWADTestKit
import Testing

/// The daemon with `eval.mode: persistent`: one evaluator for the whole run, and a
/// broken one never stops the merges.
@Suite struct PersistentEvaluationTests {
    let base = EvaluationTests()

    @Test func oneEvaluatorScoresEveryWindowAndStopsWithTheDaemon() throws {
        let live = try LiveRun()
        let starts = live.dir.file("starts"), log = live.dir.file("evaluator.log")
        let environment = base.environment(live, ["--starts", starts, "--log", log], minMembers: "2")
            .merging(["MWAD_EVAL_MODE": "persistent", "MWAD_WATCH_DEBOUNCE": "0"]) { $1 }
        let daemon = try live.start(environment: environment)
        #expect(daemon.log.contains("evaluation on (persistent): "), "\(daemon.log)")
        let writer = TrainerWriter(runDirectory: live.run)
        for step in stride(from: 10, through: 50, by: 10) {
            try writer.save(step: step)
            #expect(live.waitForMerge(through: Int64(step)), "\(daemon.log)")
            #expect(DaemonProcess.waitUntil(timeout: 30) { live.snapshot()?.evaluations.contains { $0.step == Int64(step) } == true || step == 10 })
        }
        #expect(daemon.stop() == 0)
        let snapshot = try #require(live.snapshot())
        #expect(Set(snapshot.evaluations.map(\.step)) == [20, 30, 40, 50], "\(snapshot.evaluations.map(\.step))")
        #expect(snapshot.evaluations.allSatisfy { $0.status == .ok }, "\(snapshot.evaluations.compactMap(\.error))")
        // The newest checkpoint's score is its RMS, as a process of its own would give.
        for evaluation in snapshot.evaluations where evaluation.target == .checkpoint {
            let file = "\(live.run)/checkpoint-\(evaluation.step)/adapter_model.safetensors"
            if FileManager.default.fileExists(atPath: file) { #expect(abs((evaluation.value ?? 0) - (try TestAdapter.rms(ofFile: file))) < 1e-9) }
        }
        #expect(try String(contentsOfFile: starts, encoding: .utf8) == "start\n", "one start for the run")
        #expect(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count == 8, "a request per adapter")
        #expect(daemon.log.contains("evaluator started (pid "), "\(daemon.log)")
    }

    /// Stopped while the evaluator works on a request it would take 10 minutes over:
    /// the daemon ends it and exits at once, the interrupted window not recorded.
    @Test func aStopEndsTheEvaluatorMidRequest() throws {
        let live = try LiveRun()
        let environment = base.environment(live, ["--slow", "600"], timeout: "900", minMembers: "2")
            .merging(["MWAD_EVAL_MODE": "persistent", "MWAD_WATCH_DEBOUNCE": "0"]) { $1 }
        let daemon = try live.start(environment: environment)
        let writer = TrainerWriter(runDirectory: live.run)
        for step in [10, 20] {
            try writer.save(step: step)
            #expect(live.waitForMerge(through: Int64(step)), "\(daemon.log)")
        }
        #expect(DaemonProcess.waitUntil(timeout: 30) { daemon.log.contains("evaluator started (pid ") }, "\(daemon.log)")
        #expect(daemon.stop(timeout: 30) == 0, "the daemon waited for its evaluator: \(daemon.log)")
        #expect(try #require(live.snapshot()).evaluations.isEmpty, "an interrupted window is not recorded")
    }

    /// An evaluator that fails at start: every window's evaluation fails with its own
    /// words, said once in the log and shown in status; merges go on.
    @Test func anEvaluatorThatCannotStartNeverStopsTheMerges() throws {
        let live = try LiveRun()
        let environment = base.environment(live, ["--fail"], minMembers: "2")
            .merging(["MWAD_EVAL_MODE": "persistent", "MWAD_WATCH_DEBOUNCE": "0"]) { $1 }
        let daemon = try live.start(environment: environment)
        let writer = TrainerWriter(runDirectory: live.run)
        for step in stride(from: 10, through: 40, by: 10) {
            try writer.save(step: step)
            #expect(live.waitForMerge(through: Int64(step)), "merges go on: \(daemon.log)")
        }
        #expect(DaemonProcess.waitUntil(timeout: 30) { live.snapshot()?.evaluations.contains { $0.step == 40 } == true }, "\(daemon.log)")
        #expect(daemon.stop() == 0)
        let warnings = daemon.log.split(separator: "\n").filter { $0.contains("WARNING") && $0.contains("exited before its first answer") }
        #expect(warnings.count == 1, "said once: \(warnings)")
        #expect(warnings.first?.contains("loading the base model failed: out of memory") == true)
        let status = try MWADProcess.run(["status", "--ledger", live.ledger]).stdout
        #expect(status.contains("exited before its first answer"), "\(status)")
    }
}
