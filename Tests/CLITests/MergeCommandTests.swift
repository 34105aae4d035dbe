import Foundation
import MWADTestKit
import SafeTensors
import Testing

/// `mwad merge` as a user meets it: output, errors, exit status.
@Suite struct MergeCommandTests {
    let dir = TemporaryDirectory()

    /// Runs mwad and checks a failure is one clear `mwad: error:` line, never a crash.
    func failing(_ arguments: [String]) throws -> String {
        let result = try MWADProcess.run(arguments)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        // A short window is warned of before the error; the error is one line.
        let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("mwad: warning: window short") }
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.hasPrefix("mwad: error: ") == true)
        #expect(!result.stderr.contains("crashed"))
        return String(lines.first ?? "")
    }

    /// Rewrites `path` (a JSON file) through `edit`.
    func editText(_ path: String, _ edit: (String) -> String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try edit(text).write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Replaces the adapter of `checkpoint` with one of the same tensors as the real
    /// file, changed by `change` (values are zeros).
    func rewriteAdapter(_ checkpoint: String, _ change: ([TestAdapter.Tensor]) -> [TestAdapter.Tensor]) throws {
        let path = "\(checkpoint)/adapter_model.safetensors"
        let real = try SafeTensorsFile(path: path)
        let tensors = real.tensors.map { TestAdapter.Tensor($0.name, Array(repeating: 0, count: $0.elementCount), shape: $0.shape) }
        try FileManager.default.removeItem(atPath: path)
        try TestAdapter.write(change(tensors), to: path)
    }

    @Test func dryRunPrintsTheTableAndWritesNothing() throws {
        let out = dir.file("merged")
        let result = try MWADProcess.run(["merge", "--method", "linear", "--weighting", "loss", "--window", "5", Fixtures.f32Run, "--out", out, "--dry-run", "--window", "3"])
        #expect(result.status == 0)
        #expect(result.stdout == """
            loss weighting on train_loss (penalty 1) · linear method · window the last 3
            step  checkpoint     train_loss    weight
              60  checkpoint-60    3.750268  0.330261
              70  checkpoint-70    3.720359  0.332916
              80  checkpoint-80    3.677218  0.336822
            dry run: nothing was written

            """)
        #expect(dir.entries().isEmpty)
    }

    @Test func dryRunJSONIsMachineReadable() throws {
        let result = try MWADProcess.run(["merge", "--method", "linear", "--weighting", "loss", "--window", "5", Fixtures.bf16Run, "--dry-run", "--json", "--weighting", "step"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["weighting"] as? String == "step")
        let members = try #require(object["members"] as? [[String: Any]])
        #expect(members.map { $0["step"] as? Int } == [20, 30, 40, 50, 60])
        #expect(object["output_sha256"] == nil)
    }

    @Test func explicitCheckpoints() throws {
        let out = dir.file("merged")
        let result = try MWADProcess.run(["merge", "--method", "linear", "--weighting", "loss", "--checkpoints", Fixtures.checkpoint(Fixtures.f32Run, 80),
                                          Fixtures.checkpoint(Fixtures.f32Run, 10), "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasSuffix("merged 2 checkpoints into \(out)\n"))
        #expect(FileManager.default.fileExists(atPath: "\(out)/adapter_model.safetensors"))
    }

    @Test func nanLoss() throws {
        let run = dir.copyRun(Fixtures.f32Run, steps: [70, 80])
        try editText("\(run)/checkpoint-80/trainer_state.json") {
            $0.replacingOccurrences(of: "\"loss\": 3.677217721939087", with: "\"loss\": NaN")
        }
        let line = try failing(["merge", "--method", "linear", "--weighting", "loss", "--window", "5", run, "--out", dir.file("merged")])
        #expect(line == "mwad: error: checkpoint-80: train_loss is nan; MWA weights need a finite value above 0")
        #expect(!FileManager.default.fileExists(atPath: dir.file("merged")))
    }

    @Test func missingTrainerState() throws {
        let run = dir.copyRun(Fixtures.f32Run, steps: [10])
        try FileManager.default.removeItem(atPath: "\(run)/checkpoint-10/trainer_state.json")
        let line = try failing(["merge", "--method", "linear", "--weighting", "loss", "--checkpoints", "\(run)/checkpoint-10", "--out", dir.file("merged")])
        #expect(line == "mwad: error: \(run)/checkpoint-10: trainer_state.json is missing")
    }

    @Test func mismatchedShapesBetweenCheckpoints() throws {
        let run = dir.copyRun(Fixtures.f32Run, steps: [10, 20])
        try rewriteAdapter("\(run)/checkpoint-20") { tensors in
            var changed = tensors
            changed[0].shape = [changed[0].shape[0] * 2, changed[0].shape[1] / 2]
            return changed
        }
        let line = try failing(["merge", "--method", "linear", "--weighting", "loss", "--window", "5", run, "--out", dir.file("merged")])
        #expect(line.contains("tensor 'base_model.model.model.layers.0.mlp.down_proj.lora_A.weight' has shape [8, 128] in checkpoint-10 but [16, 64] in checkpoint-20"))
    }

    @Test func missingTensorInOneCheckpoint() throws {
        let run = dir.copyRun(Fixtures.f32Run, steps: [10, 20])
        try rewriteAdapter("\(run)/checkpoint-10") { Array($0.dropLast()) }
        let line = try failing(["merge", "--method", "linear", "--weighting", "loss", "--window", "5", run, "--out", dir.file("merged")])
        #expect(line.contains("is in checkpoint-20 but missing from checkpoint-10"))
    }

    @Test func corruptAdapterGivenExplicitly() throws {
        let run = dir.copyRun(Fixtures.f32Run, steps: [10])
        let adapter = "\(run)/checkpoint-10/adapter_model.safetensors"
        try FileHandle(forWritingTo: URL(fileURLWithPath: adapter)).truncate(atOffset: 4)
        let line = try failing(["merge", "--method", "linear", "--weighting", "loss", "--checkpoints", "\(run)/checkpoint-10", "--out", dir.file("merged")])
        #expect(line == "mwad: error: \(adapter): is 4 bytes, too small for the 8-byte header length")
    }

    @Test func incompleteNewestCheckpointIsSkippedWithAWarning() throws {
        let run = dir.copyRun(Fixtures.f32Run, steps: [60, 70, 80])
        try FileManager.default.removeItem(atPath: "\(run)/checkpoint-80/trainer_state.json")
        let result = try MWADProcess.run(["merge", "--method", "linear", "--weighting", "loss", "--window", "5", run, "--out", dir.file("merged"), "--window", "2"])
        #expect(result.status == 0)
        #expect(result.stderr == "mwad: warning: skipped checkpoint-80: \(run)/checkpoint-80: trainer_state.json is missing\n")
        #expect(result.stdout.contains("merged 2 checkpoints"))
    }

    @Test func missingRunDirectory() throws {
        let line = try failing(["merge", "--method", "linear", "--weighting", "loss", "--window", "5", dir.file("nope"), "--out", dir.file("merged")])
        #expect(line == "mwad: error: \(dir.file("nope")): cannot read the run directory: No such file or directory")
    }

    @Test func usageErrorsExitWith64() throws {
        for arguments in [["merge", "--method", "linear", "--weighting", "loss", "--window", "5", Fixtures.f32Run], ["merge", "--method", "linear", "--weighting", "loss", "--window", "5", Fixtures.f32Run, "--out", "x", "--penalty", "-1"],
                          ["merge", "--method", "linear", "--weighting", "loss", "--window", "5", "--out", "x"], ["merge", "--method", "linear", "--weighting", "loss", "--window", "5", Fixtures.f32Run, "--out", "x", "--weighting", "best"]] {
            let result = try MWADProcess.run(arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.contains("Error:"))
        }
    }
}
