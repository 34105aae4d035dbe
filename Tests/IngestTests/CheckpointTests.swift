import Foundation
import Ingest
import MWADTestKit
import SafeTensors
import Testing

@Suite struct CheckpointTests {
    @Test func loadsARealCheckpoint() throws {
        let checkpoint = try Checkpoint.load(folder: Fixtures.checkpoint(Fixtures.f32Run, 30))
        #expect(checkpoint.step == 30)
        #expect(checkpoint.adapter.tensors.count == 28)
        #expect(checkpoint.adapterSHA256().count == 64)
        #expect(checkpoint.value(of: .trainLoss) != nil)
    }

    @Test func missingTrainerState() throws {
        let dir = TemporaryDirectory()
        let run = dir.copyRun(Fixtures.f32Run, steps: [10])
        try FileManager.default.removeItem(atPath: "\(run)/checkpoint-10/trainer_state.json")
        #expect(throws: IngestError.missingFile(checkpoint: "\(run)/checkpoint-10", file: "trainer_state.json")) {
            try Checkpoint.load(folder: "\(run)/checkpoint-10")
        }
    }

    @Test func missingAdapter() throws {
        let dir = TemporaryDirectory()
        let run = dir.copyRun(Fixtures.f32Run, steps: [10])
        try FileManager.default.removeItem(atPath: "\(run)/checkpoint-10/adapter_model.safetensors")
        #expect(throws: IngestError.missingFile(checkpoint: "\(run)/checkpoint-10", file: "adapter_model.safetensors")) {
            try Checkpoint.load(folder: "\(run)/checkpoint-10")
        }
    }

    @Test func brokenAdapterCarriesTheFormatError() throws {
        let dir = TemporaryDirectory()
        let run = dir.copyRun(Fixtures.f32Run, steps: [10])
        let adapter = "\(run)/checkpoint-10/adapter_model.safetensors"
        try FileHandle(forWritingTo: URL(fileURLWithPath: adapter)).truncate(atOffset: 5000)
        do {
            _ = try Checkpoint.load(folder: "\(run)/checkpoint-10")
            Issue.record("loaded a truncated adapter")
        } catch {
            guard case .invalidAdapter(let format) = error, case .dataTruncated = format.rule else {
                Issue.record("got \(error)"); return
            }
            #expect(format.file == adapter)
        }
    }

    @Test func aFolderWithAnotherNameTakesGlobalStep() throws {
        let dir = TemporaryDirectory()
        let run = dir.copyRun(Fixtures.f32Run, steps: [20])
        try FileManager.default.moveItem(atPath: "\(run)/checkpoint-20", toPath: "\(run)/best")
        #expect(try Checkpoint.load(folder: "\(run)/best").step == 20)
    }
}
