import Foundation
import Ingest
import Ledger
import MWADTestKit
import Publish
import Testing

/// diffusers' and torchtune's runs replayed in their trainers' own write order (with
/// diffusers' delete-before-save rotation) while `mwad run` watches with layout
/// `auto` and the exact `delta` method: every checkpoint ends ingested or missed,
/// never absent, and the merge is published in the layout's own form.
@Suite(.serialized) struct LayoutReplayTests {
    static let settings = ["MWAD_MERGE_METHOD": "delta", "MWAD_MERGE_WEIGHTING": "loss", "MWAD_MERGE_WINDOW": "3"]

    /// Starts `mwad run` on an empty run, lets `save` write steps 10…200 `apart`
    /// seconds apart, waits for the merge of step 200 and stops the daemon; every
    /// step has its ledger row (none absent).
    /// `extra` gives more flags for the run's paths.
    static func replay(apart: Double, extra: (LiveRun) -> [String] = { _ in [] },
                       writer: (String) throws -> (Int) throws -> Void) throws -> (LiveRun, [CheckpointRecord], String) {
        let live = try LiveRun(createRun: false)
        let daemon = try live.start(extra(live), environment: settings)
        try FileManager.default.createDirectory(atPath: live.run, withIntermediateDirectories: true)
        let save = try writer(live.run)
        for step in stride(from: 10, through: 200, by: 10) {
            try save(step)
            usleep(UInt32(apart * 1_000_000))
        }
        #expect(live.waitForMerge(through: 200), "\(daemon.log)")
        #expect(daemon.stop() == 0)
        let rows = try #require(live.snapshot()).checkpoints
        #expect(rows.map(\.step) == Array(stride(from: 10, through: 200, by: 10)).map(Int64.init), "absent: \(daemon.log)")
        #expect(rows.allSatisfy { [.ingested, .evicted, .missed].contains($0.status) }, "\(rows.map { "\($0.step) \($0.status) \($0.reason ?? "")" })")
        return (live, rows, daemon.log)
    }

    @Test(arguments: [0.05, 0])
    func diffusersRunWithItsRotation(apart: Double) throws {
        let (live, rows, log) = try Self.replay(apart: apart) { run in try DiffusersWriter(runDirectory: run, totalLimit: 2).save(step:) }
        for row in rows where row.status != .missed {
            #expect(abs((row.trainLoss ?? 0) - DiffusersWriter.loss(at: Int(row.step))) < 1e-6, "the loss of its step, from TensorBoard")
        }
        #expect(log.contains("NOTICE layout: diffusers (auto: checkpoint-10 holds pytorch_lora_weights.safetensors)"), "\(log)")
        #expect(try #require(try Ledger(path: live.ledger).daemon()).layout == "diffusers (auto: checkpoint-10 holds pytorch_lora_weights.safetensors)")
        let files = try FileManager.default.contentsOfDirectory(atPath: live.output).sorted()
        #expect(files == ["mwa_merge.json", "pytorch_lora_weights.safetensors"], "a diffusers folder")
        print("diffusers, \(Int(apart * 1000)) ms apart: \(rows.filter { $0.status != .missed }.count) ingested, \(rows.filter { $0.status == .missed }.count) missed, 0 absent")
    }

    @Test(arguments: [0.05, 0])
    func torchtuneRun(apart: Double) throws {
        let live = try LiveRun(createRun: false)
        let daemon = try live.start(environment: Self.settings)
        try FileManager.default.createDirectory(atPath: live.run, withIntermediateDirectories: true)
        let writer = try TorchtuneWriter(runDirectory: live.run)
        for epoch in 0..<12 {
            try writer.save(epoch: epoch)
            usleep(UInt32(apart * 1_000_000))
        }
        #expect(live.waitForMerge(through: 120), "\(daemon.log)")
        #expect(daemon.stop() == 0)
        let rows = try #require(live.snapshot()).checkpoints
        #expect(rows.map(\.step) == Array(stride(from: 10, through: 120, by: 10)).map(Int64.init), "steps, not epochs: \(daemon.log)")
        #expect(rows.allSatisfy { $0.status == .ingested || $0.status == .evicted }, "no rotation: none missed")
        for row in rows {
            #expect(abs((row.trainLoss ?? 0) - TorchtuneWriter.loss(at: Int(row.step))) < 1e-9, "the DiskLogger's loss of its step")
        }
        #expect(daemon.log.contains("NOTICE layout: torchtune (auto: epoch_0 holds adapter_model.safetensors)"), "\(daemon.log)")
        let files = try FileManager.default.contentsOfDirectory(atPath: live.output).sorted()
        #expect(files == ["adapter_config.json", "adapter_model.safetensors", "mwa_merge.json"], "a PEFT folder")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(live.output)/adapter_config.json"))) as! [String: Any]
        #expect(config["r"] as? Int == 24 && config["lora_alpha"] as? Int == 24, "delta: the summed rank, scaling 1")
    }
}

/// kohya's run replayed in its own write order (each file saved in place, then
/// `save_last_n_steps` deleting the oldest) while `mwad run` watches with layout auto
/// and publishes its one file among the checkpoints, as kohya puts its final file.
@Suite(.serialized) struct FlatReplayTests {
    @Test(arguments: [0.05, 0])
    func kohyaRunWithItsRotation(apart: Double) throws {
        // The later --out wins: the merge is published as a file in the run folder.
        let (live, rows, log) = try LayoutReplayTests.replay(apart: apart, extra: { ["--out", "\($0.run)/pixel-mwa.safetensors"] }) { run in
            try KohyaWriter(runDirectory: run, keep: 2).save(step:)
        }
        for row in rows where row.status != .missed {
            #expect(abs((row.trainLoss ?? 0) - KohyaWriter.loss(at: Int(row.step))) < 1e-6, "the loss/current of its step")
        }
        #expect(log.contains("NOTICE layout: flat (auto: pixel-step00000010.safetensors is a kohya checkpoint file)"), "\(log)")
        let published = "\(live.run)/pixel-mwa.safetensors"
        let snapshot = try #require(live.snapshot())
        #expect(snapshot.merge?.outputPath == published, "the ledger names the file")
        let manifest = try #require(FilePublication.manifest(ofFile: published), "the manifest in its metadata")
        #expect(manifest.members.last?.step == 200 && manifest.settings.method == "delta")
        #expect(try FileDigest.sha256(ofFile: published) == snapshot.merge?.outputSHA256, "the file the ledger hashed")
        let files = try FileManager.default.contentsOfDirectory(atPath: live.run)
        #expect(!files.contains { $0.contains("mwad-staging") } && !FileManager.default.fileExists(atPath: live.output), "one file, no leftovers: \(files)")
        print("kohya, \(Int(apart * 1000)) ms apart: \(rows.filter { $0.status != .missed }.count) ingested, \(rows.filter { $0.status == .missed }.count) missed, 0 absent")
    }
}
