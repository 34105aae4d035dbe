import Foundation
import MWADTestKit
import SafeTensors
import Testing

/// `mwad export`: a checkpoint the trainer's rotation deleted, written back from mwad's
/// retained copy, byte for byte.
@Suite struct ExportTests {
    let dir = TemporaryDirectory("mwad-export")

    /// A run merged once (window 3: steps 60–80 retained), then rotated away entirely.
    func rotatedRun() throws -> (run: String, ledger: String) {
        let run = dir.file("run")
        try FileManager.default.copyItem(atPath: Fixtures.f32Run, toPath: run)
        let ledger = dir.file("state/ledger.sqlite")
        let once = try MWADProcess.run(["run", "--once", "--watch", run, "--ledger", ledger])
        #expect(once.status == 0, "\(once.stderr)")
        for name in try FileManager.default.contentsOfDirectory(atPath: run) { try FileManager.default.removeItem(atPath: "\(run)/\(name)") }
        return (run, ledger)
    }

    @Test func aRetainedCheckpointIsWrittenBackByteForByte() throws {
        let (_, ledger) = try rotatedRun()
        let out = dir.file("checkpoint-70")
        let result = try MWADProcess.run(["export", "--ledger", ledger, "--step", "70", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("exported checkpoint-70 (step 70, sha256 "), "\(result.stdout)")
        for name in ["adapter_model.safetensors", "adapter_config.json"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(name)")) == Data(contentsOf: URL(fileURLWithPath: "\(Fixtures.f32Run)/checkpoint-70/\(name)")), "\(name)")
        }
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/mwa_export.json"))) as? [String: Any])
        #expect(manifest["step"] as? Int == 70)
        // Again into the same folder: it is mwad's, so it is replaced.
        #expect(try MWADProcess.run(["export", "--ledger", ledger, "--newest", "--out", out]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(out)/adapter_model.safetensors")) == Data(contentsOf: URL(fileURLWithPath: Fixtures.adapter(Fixtures.f32Run, 80))))
    }

    @Test func aStepWithoutACopySaysWhichCanBeExported() throws {
        let (_, ledger) = try rotatedRun()
        let result = try MWADProcess.run(["export", "--ledger", ledger, "--step", "20", "--out", dir.file("x")])
        #expect(result.status == 1)
        #expect(result.stderr == "mwad: error: \(ledger): no retained copy of step 20; these steps can be exported: 60, 70, 80\n", "\(result.stderr)")
        let status = try MWADProcess.run(["status", "--ledger", ledger, "--all"]).stdout
        #expect(status.contains("retained, for mwad export --step S: 60, 70, 80"), "\(status)")
    }

    @Test func aFolderMwadDidNotMakeIsNeverReplaced() throws {
        let (_, ledger) = try rotatedRun()
        let mine = dir.file("mine")
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: "\(mine)/notes.txt"))
        let result = try MWADProcess.run(["export", "--ledger", ledger, "--newest", "--out", mine])
        #expect(result.status == 1 && result.stderr.contains("refusing to replace"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mine) == ["notes.txt"])
    }

    /// `eval.keep_newest`: after each merge the window's newest checkpoint is kept beside
    /// it, byte for byte, with or without an evaluator.
    @Test func keepNewestKeepsTheWindowsNewestCheckpoint() throws {
        let run = dir.file("run")
        try FileManager.default.copyItem(atPath: Fixtures.f32Run, toPath: run)
        let kept = dir.file("newest")
        let once = try MWADProcess.run(["run", "--once", "--watch", run, "--ledger", dir.file("s/ledger.sqlite"), "--keep-newest", kept])
        #expect(once.status == 0, "\(once.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(kept)/adapter_model.safetensors")) == Data(contentsOf: URL(fileURLWithPath: Fixtures.adapter(Fixtures.f32Run, 80))))
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(kept)/mwa_export.json"))) as? [String: Any])
        #expect(manifest["step"] as? Int == 80 && (manifest["source"] as? String)?.hasSuffix("/checkpoint-80") == true)
    }

    /// kohya's files: the checkpoint comes back as one file with its tensors unchanged.
    @Test func aFlatCheckpointComesBackAsAFile() throws {
        let run = dir.file("kohya")
        try FileManager.default.copyItem(atPath: "\(Fixtures.root)/flat-kohya", toPath: run)
        let ledger = dir.file("kstate/ledger.sqlite")
        let once = try MWADProcess.run(["run", "--once", "--watch", run, "--ledger", ledger, "--out", dir.file("kmerged")])
        #expect(once.status == 0, "\(once.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: run).filter { $0.contains("-step") }.sorted()
        let newest = try #require(files.last)
        let original = try SafeTensorsFile(path: "\(run)/\(newest)")
        let out = dir.file("exported")
        let result = try MWADProcess.run(["export", "--ledger", ledger, "--newest", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        let exported = try SafeTensorsFile(path: "\(out)/\(newest)")
        #expect(exported.tensors.map(\.name) == original.tensors.map(\.name))
        for tensor in original.tensors {
            #expect(Array(exported.bytes(of: exported.tensor(named: tensor.name)!)) == Array(original.bytes(of: tensor)), "\(tensor.name)")
        }
        #expect(exported.metadata?["mwa_export"]?.contains("\"step\"") == true)
    }
}
