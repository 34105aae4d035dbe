import Foundation
import Ingest
import MWADTestKit
import SafeTensors
import Testing

/// The flat layout on runs laid out exactly as kohya sd-scripts and ostris ai-toolkit
/// name and fill their files (`Tests/Fixtures/flat-*`, made from the real diffusers run
/// by `scripts/make-flat-fixtures.py`: neither trainer is on PyPI).
@Suite struct FlatLayoutTests {
    let dir = TemporaryDirectory()

    @Test(arguments: [("flat-kohya", "pixel-step00000010.safetensors is a kohya checkpoint file"),
                      ("flat-kohya-epochs", "pixel-000001.safetensors is a kohya checkpoint file"),
                      ("flat-aitoolkit", "pixel_000000010.safetensors is an ai-toolkit checkpoint file")])
    func detectsStepsLossesAndOutput(_ name: String, _ evidence: String) throws {
        let found = try #require(LayoutCatalog.detect(in: "\(Fixtures.root)/\(name)"))
        #expect(found.description.name == "flat" && found.evidence == evidence)
        let layout = FlatLayout()
        let run = try RunDirectory.scan("\(Fixtures.root)/\(name)", layout: layout)
        #expect(run.checkpoints.map(\.step) == [10, 20, 30, 40], "the final pixel.safetensors carries no step")
        #expect(run.skipped.isEmpty)
        // The losses the diffusers script printed: the fixture logs them under the trainers' tags.
        let printed = try LayoutTests.printedLosses("diffusers-run.stdout", pattern: #"step (\d+) epoch \d+ train_loss ([0-9.]+)"#)
        for ref in run.checkpoints {
            let checkpoint = try Checkpoint.load(ref, layout: layout)
            #expect(abs(try #require(checkpoint.value(of: .trainLoss)) - printed[ref.step]!) < 5e-5, "\(ref.name)")
            #expect(checkpoint.format == .kohya && checkpoint.configPath == nil && checkpoint.adapter.path == ref.path)
        }
        #expect(layout.output == OutputProposal(adapterFile: "pixel-mwa.safetensors", configFile: nil, publication: "file"), "one file")
        #expect(layout.takeLogProblems() == [])
    }

    @Test(arguments: [
        ("pixel-step00000500.safetensors", FlatName.kohyaStep(name: "pixel", step: 500)),
        ("my-lora-step123456789.safetensors", .kohyaStep(name: "my-lora", step: 123_456_789)),
        ("pixel-000003.safetensors", .kohyaEpoch(name: "pixel", epoch: 3)),
        ("my_lora_000000500.safetensors", .aiToolkitStep(name: "my_lora", step: 500)),
    ])
    func namesAsTheTrainersWriteThem(_ file: String, _ expected: FlatName) {
        #expect(FlatName(file) == expected)
    }

    @Test(arguments: ["pixel.safetensors", "pixel-mwa.safetensors", ".pixel-step00000010.safetensors", "pixel-step0000010.safetensors",
                      "pixel_00000010.safetensors", "pixel-00003.safetensors", "-000003.safetensors", "pixel-step00000010.ckpt",
                      "pixel-step99999999999999999999.safetensors"])
    func namesThatAreNoCheckpoint(_ file: String) {
        #expect(FlatName(file) == nil)
    }

    /// kohya saves in place (header first, then the tensors): complete only when the
    /// header describes exactly the file's size, and the loss of its step is logged.
    @Test func completeOnceTheFileIsWholeAndItsLossLogged() throws {
        let source = "\(Fixtures.root)/flat-kohya"
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let file = "\(run)/pixel-step00000040.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(source)/pixel-step00000040.safetensors"))
        let layout = FlatLayout()
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: file))
        guard case .waiting(let reason) = layout.completion(of: file, now: Date(), settleTime: 0) else { Issue.record("complete when half written"); return }
        #expect(reason.hasPrefix("pixel-step00000040.safetensors was not completely written yet (it "), "\(reason)")
        try bytes.write(to: URL(fileURLWithPath: file))
        #expect(layout.completion(of: file, now: Date(), settleTime: 10) == .waiting("the loss/current of step 40 was not in logs/ yet"))
        #expect(layout.completion(of: file, now: Date().addingTimeInterval(11), settleTime: 10) == .complete(metricsFile: nil))
        try FileManager.default.copyItem(atPath: "\(source)/logs", toPath: "\(run)/logs")
        #expect(layout.completion(of: file, now: Date(), settleTime: 10) == .complete(metricsFile: nil))
        #expect(layout.path(of: FlatLayout.copyFile, in: file) == file, "the checkpoint is its adapter")
        #expect(layout.path(of: FlatLayout.copyFile, in: run) == "\(run)/\(FlatLayout.copyFile)", "a retained copy is a folder")
        try FileManager.default.removeItem(atPath: file)
        #expect(layout.path(of: FlatLayout.copyFile, in: file) == file, "gone: what is missing is the trainer's file")
    }

    /// An epoch file's step is kohya's ss_steps: while its header is unreadable and the
    /// file young it is no checkpoint yet; without ss_steps it is skipped, saying why.
    @Test func anEpochFilesStepIsInItsMetadata() throws {
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let layout = FlatLayout()
        #expect(layout.classify("pixel-000003.safetensors", in: "\(Fixtures.root)/flat-kohya-epochs") == .checkpoint(step: 30))
        FileManager.default.createFile(atPath: "\(run)/pixel-000003.safetensors", contents: Data([1, 2]))
        #expect(layout.classify("pixel-000003.safetensors", in: run) == .other, "being written")
        let old = Date().addingTimeInterval(-120)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: "\(run)/pixel-000003.safetensors")
        #expect(layout.classify("pixel-000003.safetensors", in: run)
            == .malformed(reason: "its step is in its metadata (ss_steps), but the file is 2 bytes, too small for the 8-byte header length"))
        let plain = CraftedSafeTensors.file(header: #"{"__metadata__":{"ss_epoch":"3"}}"#)
        FileManager.default.createFile(atPath: "\(run)/pixel-000003.safetensors", contents: Data(plain))
        #expect(layout.classify("pixel-000003.safetensors", in: run)
            == .malformed(reason: "an epoch file without ss_steps in its metadata, so its step is not known; save by steps (save_every_n_steps) instead"))
        let skipped = try RunDirectory.scan(run, layout: layout).skipped
        #expect(skipped.map(\.name) == ["pixel-000003.safetensors"], "said in the ledger and status")
    }

    /// The header read without a map agrees with the mapped file, and fails on a file
    /// still being written.
    @Test func headerReadWithoutAMap() throws {
        let path = "\(Fixtures.root)/flat-aitoolkit/pixel_000000020.safetensors"
        let header = try SafeTensorsHeader.read(path: path)
        let mapped = try SafeTensorsFile(path: path)
        #expect(header.tensors == mapped.tensors && header.metadata == mapped.metadata)
        #expect(header.metadata?["training_info"] == #"{"step": 20, "epoch": 2}"#)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let short = dir.file("short.safetensors")
        try bytes.dropLast(10).write(to: URL(fileURLWithPath: short))
        #expect { try SafeTensorsHeader.read(path: short) } throws: { error in
            guard let error = error as? SafeTensorsError, case .dataTruncated = error.rule else { return false }
            return true
        }
    }
}
