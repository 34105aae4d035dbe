import Foundation
import Ingest
import Ledger
import MWADTestKit
import SafeTensors
import Testing

/// SIGTERM and SIGINT while the daemon merges large adapters: it exits 0 promptly and
/// the output is the previous merge or the new one, whole.
@Suite(.serialized) struct ShutdownTests {
    /// Writes a complete checkpoint whose adapter holds `megabytes` of F32.
    func bigCheckpoint(_ live: LiveRun, step: Int, megabytes: Int) throws {
        let staging = live.dir.file("big-\(step)")
        try TrainerWriter(runDirectory: staging).save(step: step)
        let adapter = "\(staging)/checkpoint-\(step)/adapter_model.safetensors"
        try FileManager.default.removeItem(atPath: adapter)
        let count = megabytes * 1024 * 1024 / 4 / 4
        let specs = (0..<4).map { TensorSpec(name: "base_model.layer.\($0).lora_A.weight", dtype: .f32, shape: [count]) }
        let writer = try SafeTensorsWriter(path: adapter, tensors: specs, metadata: ["format": "pt"])
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = Float((i + step) % 97) / 97 }
            initialized = count
        }
        for _ in specs { try values.withUnsafeBytes { try writer.append($0) } }
        try writer.finish()
        try FileManager.default.moveItem(atPath: "\(staging)/checkpoint-\(step)", toPath: "\(live.run)/checkpoint-\(step)")
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func stopsCleanlyDuringAMerge(_ signal: Int32) throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_WATCH_DEBOUNCE": "0"])
        try bigCheckpoint(live, step: 10, megabytes: 64)
        #expect(live.waitForMerge(through: 10))
        try bigCheckpoint(live, step: 20, megabytes: 64)
        #expect(daemon.waitForLog("ingested checkpoint-20"))
        let started = Date()
        #expect(daemon.stop(signal: signal) == 0, "\(daemon.log)")
        #expect(Date().timeIntervalSince(started) < 30)  // TimeoutStopSec
        #expect(daemon.log.contains("INFO stopped"))

        // Whole: the adapter validates and matches its manifest.
        let file = try SafeTensorsFile(path: "\(live.output)/adapter_model.safetensors")
        #expect(file.tensors.count == 4)
        let manifestData = try Data(contentsOf: URL(fileURLWithPath: "\(live.output)/mwa_merge.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
        #expect(manifest["output_sha256"] as? String == (try FileDigest.sha256(ofFile: "\(live.output)/adapter_model.safetensors")))
        let entries = try FileManager.default.contentsOfDirectory(atPath: live.dir.path)
        #expect(!entries.contains { $0.contains("mwad-staging") }, "\(entries)")
        #expect(live.snapshot()?.daemon?.stoppedAt != nil)
    }
}
