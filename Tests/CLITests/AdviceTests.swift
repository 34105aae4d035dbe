import Foundation
import MWADTestKit
import Testing

/// What mwad says when a user's command names the wrong thing, or changes what the
/// last run on a ledger did: advice that fixes the mistake, asserted on its text.
@Suite struct AdviceTests {
    let dir = TemporaryDirectory("mwad-advice")

    func copyRun(_ fixture: String = "trainer-run-f32") throws -> String {
        let run = dir.file(fixture)
        try FileManager.default.copyItem(atPath: "\(Fixtures.root)/\(fixture)", toPath: run)
        return run
    }

    @Test(arguments: [("trainer-run-f32", "checkpoint-80", "huggingface", "adapter_model.safetensors"),
                      ("diffusers-run", "checkpoint-40", "diffusers", "pytorch_lora_weights.safetensors"),
                      ("torchtune-run", "epoch_3", "torchtune", "adapter_model.safetensors")])
    func oneCheckpointGivenAsTheRun(fixture: String, checkpoint: String, layout: String, file: String) throws {
        let run = try copyRun(fixture)
        let folder = "\(run)/\(checkpoint)"
        let expected = "\(folder) is one checkpoint of a \(layout) run (\(checkpoint) holds \(file)), not a run: give the run, its parent \(run) "
            + "(mwad merge \(run), or --watch \(run)), or merge this one checkpoint with --checkpoints \(folder)"
        let merge = try MWADProcess.run(["merge", folder, "--out", dir.file("out")])
        #expect(merge.status == 1 && merge.stderr == "mwad: error: \(expected)\n", "\(merge.stderr)")
        let watch = try MWADProcess.run(["run", "--watch", folder, "--out", dir.file("out"), "--ledger", dir.file("l/ledger.sqlite")])
        #expect(watch.status == 78 && watch.stderr.hasSuffix("mwad: error: \(expected)\n"), "never a daemon waiting on one checkpoint: \(watch.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("l/ledger.sqlite")))
    }

    @Test func aRunGivenAsCheckpoints() throws {
        let run = try copyRun()
        let result = try MWADProcess.run(["merge", "--checkpoints", run, "--out", dir.file("out")])
        #expect(result.status == 1)
        #expect(result.stderr == "mwad: error: \(run) is a huggingface run holding 8 checkpoints (checkpoint-10 holds adapter_model.safetensors), not one checkpoint: "
            + "give it as the run (mwad merge \(run)), or name checkpoints with --checkpoints \(run)/checkpoint-70 \(run)/checkpoint-80\n", "\(result.stderr)")
    }

    /// save_total_limit=2 and window 3, the usual case: the warning names the rotation
    /// and what keeps the checkpoints.
    @Test func aWindowShortAfterTheRotationSaysWhy() throws {
        let run = try copyRun()
        for step in stride(from: 10, through: 60, by: 10) { try FileManager.default.removeItem(atPath: "\(run)/checkpoint-\(step)") }
        let result = try MWADProcess.run(["merge", run, "--out", dir.file("out")])
        #expect(result.status == 0)
        #expect(result.stderr == "mwad: warning: window short: 2 of 3 checkpoints (the run has no more complete ones); the trainer's rotation (save_total_limit) removed the earlier ones; "
            + "mwad run, watching during training, keeps a copy of each checkpoint before the trainer deletes it\n", "\(result.stderr)")
    }

    /// A daemon on a ledger whose last run published elsewhere, merged otherwise or
    /// evaluated: one notice at start, each change old → new. Evaluation from flags.
    @Test func whatChangedSinceTheLastRunIsNoticedAtStart() throws {
        let run = try copyRun()
        let ledger = dir.file("state/ledger.sqlite")
        let best = dir.file("best")
        let first = try MWADProcess.run(["run", "--once", "--watch", run, "--ledger", ledger, "--out", dir.file("a"), "--method", "linear",
                                         "--eval-command", "/usr/bin/python3,\(Fixtures.root)/evaluators/norm_eval.py", "--best-output", best,
                                         "--eval-candidates", "weighting=uniform"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("evaluation on: /usr/bin/python3 \(Fixtures.root)/evaluators/norm_eval.py scores eval_loss (lower is better), candidates: uniform, window 3, linear, best adapter into \(best)"), "\(first.stderr)")
        #expect(!first.stderr.contains("changed since the last run"))
        #expect(FileManager.default.fileExists(atPath: "\(best)/mwa_best.json"), "--best-output published the best")
        let second = try MWADProcess.run(["run", "--once", "--watch", run, "--ledger", ledger, "--out", dir.file("b")])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("evaluation off (eval.command, --eval-command)"))
        #expect(second.stderr.contains("NOTICE changed since the last run on this ledger: output \(dir.file("a")) → \(dir.file("b")) (the merge in \(dir.file("a")) stays as it was, no longer updated); "
            + "method linear → auto; evaluation on → off (no eval.command; \(best) is no longer updated)"), "\(second.stderr)")
        let third = try MWADProcess.run(["run", "--once", "--watch", run, "--ledger", ledger, "--out", dir.file("b")])
        #expect(!third.stderr.contains("changed since the last run"), "nothing changed: \(third.stderr)")
    }
}
