import Foundation
import MWADTestKit
import SafeTensors
import Testing

/// The default method merges every adapter: `auto` takes the exact delta where it is
/// exact and linear where it is not (DoRA, lora_bias), says which it used and why, and
/// a checkpoint is valid or not whatever the method (PEFT's own runs as fixtures).
@Suite struct AutoMethodTests {
    let dir = TemporaryDirectory("mwad-auto")

    func tensors(_ path: String) throws -> [String: [UInt8]] {
        let file = try SafeTensorsFile(path: path)
        return Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, Array(file.bytes(of: $0))) })
    }

    /// A plain LoRA run, and an rsLoRA run with modules_to_save (lm_head), under the
    /// defaults: delta, byte for byte (LoraMethodTests holds delta to the float64 oracle).
    @Test(arguments: ["trainer-run-f32", "trainer-run-rslora"])
    func exactAdaptersUseDelta(_ run: String) throws {
        let path = "\(Fixtures.root)/\(run)"
        let auto = try MWADProcess.run(["merge", path, "--out", dir.file("auto")])
        #expect(auto.status == 0, "\(auto.stderr)")
        #expect(auto.stdout.contains("auto → delta"), "\(auto.stdout)")
        let delta = try MWADProcess.run(["merge", path, "--out", dir.file("delta"), "--method", "delta"])
        #expect(delta.status == 0, "\(delta.stderr)")
        #expect(try tensors(dir.file("auto/adapter_model.safetensors")) == tensors(dir.file("delta/adapter_model.safetensors")))
        let config = try String(contentsOfFile: dir.file("auto/adapter_config.json"), encoding: .utf8)
        #expect(config == (try String(contentsOfFile: dir.file("delta/adapter_config.json"), encoding: .utf8)), "delta's rewritten config")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("auto/mwa_merge.json")))) as? [String: Any])
        #expect((manifest["report"] as? [String: Any])?["method_used"] as? String == "delta")
        #expect(try SafeTensorsFile(path: dir.file("auto/adapter_model.safetensors")).metadata?["mwa_method_used"] == "delta")
    }

    /// PEFT's DoRA run under the daemon's defaults: every checkpoint ingested, the merge
    /// published as linear, and `auto → linear (DoRA)` in the log, the manifest, the
    /// file's metadata, the ledger and status (human and JSON).
    @Test func aDoRARunUnderTheDefaultsIsMergedLinearlyAndSaysSo() throws {
        let run = dir.file("run")
        try FileManager.default.copyItem(atPath: "\(Fixtures.root)/trainer-run-dora", toPath: run)
        let ledger = dir.file("state/ledger.sqlite")
        let result = try MWADProcess.run(["run", "--once", "--watch", run, "--ledger", ledger])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("method auto merges with linear, not delta: checkpoint-"), "\(result.stderr)")
        #expect(result.stderr.contains("DoRA"))
        let merged = "\(run)/mwa-merged"
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(merged)/mwa_merge.json"))) as? [String: Any])
        let report = try #require(manifest["report"] as? [String: Any])
        #expect(report["method_used"] as? String == "linear" && report["method_reason"] as? String == "DoRA", "\(report)")
        let metadata = try SafeTensorsFile(path: "\(merged)/adapter_model.safetensors").metadata
        #expect(metadata?["mwa_method"] == "auto" && metadata?["mwa_method_used"] == "linear")
        #expect(metadata?["mwa_method_reason"]?.contains("DoRA") == true)
        let json = try MWADProcess.run(["status", "--ledger", ledger, "--json"])
        let status = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let counts = try #require(status["counts"] as? [String: Any])
        #expect(counts["rejected"] as? Int == 0 && counts["ingested_total"] as? Int == 4, "\(counts)")
        #expect((status["merge"] as? [String: Any])?["method"] as? String == "auto → linear (DoRA)", "\(json.stdout)")
        let human = try MWADProcess.run(["status", "--ledger", ledger]).stdout
        #expect(human.contains("auto → linear (DoRA)"), "\(human)")
        print("DoRA run under the defaults, mwad status:\n\(human)")
    }

    /// With `--method delta` named, a DoRA member is a merge error, not a rejection: the
    /// checkpoints are ingested and retained, and once the trainer's folders are gone,
    /// `--method linear` merges the retained copies.
    @Test func aMemberDeltaCannotTakeIsAMergeErrorAndLinearMergesItLater() throws {
        let run = dir.file("run")
        try FileManager.default.copyItem(atPath: "\(Fixtures.root)/trainer-run-dora", toPath: run)
        let ledger = dir.file("state/ledger.sqlite")
        let out = dir.file("merged")
        let delta = try MWADProcess.run(["run", "--once", "--watch", run, "--ledger", ledger, "--out", out, "--layout", "huggingface", "--method", "delta"])
        #expect(delta.status == 1)
        #expect(delta.stderr.contains("merge failed; nothing is published yet: ") && delta.stderr.contains("DoRA"), "\(delta.stderr)")
        let last = delta.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("mwad: error: merge failed; nothing is published yet: ") && last.contains("DoRA"), "\(delta.stderr)")
        #expect(!delta.stderr.contains("rejected"), "\(delta.stderr)")
        let status = try MWADProcess.run(["status", "--ledger", ledger, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect((object["counts"] as? [String: Any])?["rejected"] as? Int == 0, "\(status.stdout)")
        #expect(((object["daemon"] as? [String: Any])?["last_error"] as? String)?.contains("DoRA") == true, "\(status.stdout)")
        for name in try FileManager.default.contentsOfDirectory(atPath: run) { try FileManager.default.removeItem(atPath: "\(run)/\(name)") }
        let linear = try MWADProcess.run(["run", "--once", "--watch", run, "--ledger", ledger, "--out", out, "--layout", "huggingface", "--method", "linear"])
        #expect(linear.status == 0, "\(linear.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/mwa_merge.json"))) as? [String: Any])
        #expect((manifest["members"] as? [[String: Any]])?.map { $0["step"] as? Int } == [20, 30, 40], "\(manifest)")
    }

    /// A lora_bias adapter (its config says so; PEFT's own checkpoint otherwise): linear.
    @Test func aLoraBiasRunIsMergedLinearly() throws {
        let run = dir.file("run")
        try FileManager.default.copyItem(atPath: Fixtures.f32Run, toPath: run)
        for step in stride(from: 10, through: 80, by: 10) {
            let config = "\(run)/checkpoint-\(step)/adapter_config.json"
            let text = try String(contentsOfFile: config, encoding: .utf8)
            try text.replacingOccurrences(of: "\"lora_bias\": false", with: "\"lora_bias\": true").write(toFile: config, atomically: true, encoding: .utf8)
        }
        #expect(try String(contentsOfFile: "\(run)/checkpoint-80/adapter_config.json", encoding: .utf8).contains("\"lora_bias\": true"))
        let result = try MWADProcess.run(["merge", run, "--out", dir.file("merged")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("auto → linear (lora_bias)"), "\(result.stdout)")
    }
}
