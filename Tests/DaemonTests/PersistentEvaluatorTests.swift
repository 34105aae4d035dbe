import Evaluate
import Foundation
import Logging
import MWADTestKit
import Testing

/// `eval.mode: persistent` against a real evaluator process (the tests' norm_eval.py in
/// its serving mode): one start for many adapters, the same scores as a process per
/// adapter, and each way such a process fails.
@Suite struct PersistentEvaluatorTests {
    let dir = TemporaryDirectory("mwad-persistent")
    var starts: String { dir.file("starts") }

    func settings(_ extra: [String] = [], timeout: Double = 30) -> EvalSettings {
        EvalSettings(command: ["/usr/bin/python3", EvaluationTests.evaluator, "--starts", starts] + extra, timeout: timeout, nice: 0,
                     mode: .persistent)
    }

    func request(step: Int, target: String = "checkpoint") -> EvalRequest {
        let folder = Fixtures.checkpoint(Fixtures.f32Run, step)
        return EvalRequest(adapter: folder, adapterFile: "\(folder)/adapter_model.safetensors", target: target, step: Int64(step), mergeID: 1)
    }

    var startCount: Int { ((try? String(contentsOfFile: starts, encoding: .utf8)) ?? "").split(separator: "\n").count }

    static let logger = Logger(label: "mwad-test")

    @Test func oneStartForManyAdaptersWithTheOneShotScores() async throws {
        let persistent = PersistentEvaluator(settings: settings(), logger: Self.logger)
        let oneShot = EvaluatorProcess(settings: EvalSettings(command: ["/usr/bin/python3", EvaluationTests.evaluator], nice: 0), scratch: dir.path)
        for step in [10, 20, 30, 40, 50, 60] {
            let served = await persistent.evaluate(request(step: step))
            let alone = await oneShot.evaluate(request(step: step))
            #expect(served.error == nil && alone.error == nil, "\(served.error ?? "") \(alone.error ?? "")")
            #expect(served.value == alone.value && served.value != nil, "step \(step): \(String(describing: served.value)) vs \(String(describing: alone.value))")
        }
        let starts = await persistent.starts
        #expect(startCount == 1 && starts == 1, "started \(startCount) times")
        await persistent.stop()
    }

    @Test func linesThatAnswerNothingAreIgnored() async throws {
        let persistent = PersistentEvaluator(settings: settings(["--garbage"]), logger: Self.logger)
        for step in [10, 20] {
            let outcome = await persistent.evaluate(request(step: step))
            #expect(abs((outcome.value ?? 0) - (try TestAdapter.rms(ofFile: request(step: step).adapterFile))) < 1e-9, "\(outcome.error ?? "")")
        }
        await persistent.stop()
    }

    @Test func aRequestPastItsTimeoutFailsAndTheNextStartsAfresh() async throws {
        let persistent = PersistentEvaluator(settings: settings(["--never-answer"], timeout: 1), logger: Self.logger)
        let first = await persistent.evaluate(request(step: 10))
        #expect(first.value == nil && first.error?.contains("no answer within 1 s (eval.timeout)") == true, "\(first.error ?? "")")
        let second = await persistent.evaluate(request(step: 20))
        let starts = await persistent.starts
        #expect(second.value == nil && starts == 2, "killed, then started afresh: \(second.error ?? "")")
        await persistent.stop()
    }

    /// Exits on its second request: restarted, the request sent again, answered.
    @Test func anExitMidRequestIsRestartedAndRetriedOnce() async throws {
        let persistent = PersistentEvaluator(settings: settings(["--crash-at", "2"]), logger: Self.logger)
        let first = await persistent.evaluate(request(step: 10))
        #expect(first.value != nil)
        let retried = await persistent.evaluate(request(step: 20))
        #expect(abs((retried.value ?? 0) - (try TestAdapter.rms(ofFile: request(step: 20).adapterFile))) < 1e-9, "\(retried.error ?? "")")
        #expect(startCount == 2)
        await persistent.stop()
    }

    /// Exits on every request for one adapter: the retry exits too; that adapter fails
    /// with the reason, the evaluator's own words included; the next is scored.
    @Test func anAdapterThatKillsItTwiceFailsWithTheReason() async throws {
        let persistent = PersistentEvaluator(settings: settings(["--crash-on-step", "20"]), logger: Self.logger)
        let first = await persistent.evaluate(request(step: 10))
        #expect(first.value != nil)
        let failed = await persistent.evaluate(request(step: 20))
        #expect(failed.value == nil && failed.error == "the evaluator exited again while scoring it (exit status 5; stderr: segmentation fault (simulated))",
                "\(failed.error ?? "")")
        #expect(startCount == 2, "restarted once for the retry")
        let next = await persistent.evaluate(request(step: 30))
        #expect(next.value != nil, "the next adapter is scored")
        #expect(startCount == 3)
        await persistent.stop()
    }

    /// Exits on its very first request: a failure at start, not retried.
    @Test func anExitBeforeTheFirstAnswerIsAFailureAtStart() async throws {
        let persistent = PersistentEvaluator(settings: settings(["--crash-at", "1"]), logger: Self.logger)
        let first = await persistent.evaluate(request(step: 10))
        #expect(first.error?.hasPrefix("the evaluator exited before its first answer (exit status 5; stderr: segmentation fault (simulated)); it is started again in 1 s") == true,
                "\(first.error ?? "")")
        #expect(startCount == 1)
    }

    /// Fails at start: each adapter fails with that reason, starts are spaced by a
    /// backoff (1 s, then 2 s), never a loop.
    @Test func aFailureAtStartIsOneErrorPerAdapterNeverALoop() async throws {
        let persistent = PersistentEvaluator(settings: settings(["--fail"]), logger: Self.logger)
        let began = Date()
        var errors: [String] = []
        for step in [10, 20, 30] { errors.append(await persistent.evaluate(request(step: step)).error ?? "") }
        #expect(errors.allSatisfy { $0.contains("exited before its first answer (exit status 3; stderr: loading the base model failed: out of memory)") }, "\(errors)")
        #expect(startCount == 3, "one start per adapter, no more")
        #expect(Date().timeIntervalSince(began) >= 3, "the backoff spaced the starts (1 s, then 2 s)")
        await persistent.stop()
    }

    @Test func aMissingProgramIsAClearError() async {
        let persistent = PersistentEvaluator(settings: EvalSettings(command: ["/nonexistent/eval"], mode: .persistent), logger: Self.logger)
        let outcome = await persistent.evaluate(request(step: 10))
        #expect(outcome.error == "failed to start: /nonexistent/eval: no such executable")
    }
}
