import Foundation
import Ingest
import MWADTestKit
import Testing

/// Each layout on the real runs in `Tests/Fixtures`: detection, steps, completion in
/// the trainer's own write order, the loss against what the trainer printed, and the
/// form a merge is published in.
@Suite struct LayoutTests {
    let dir = TemporaryDirectory()

    /// "step 20 epoch 2 train_loss 0.8514" lines the diffusers script printed: step → loss.
    static func printedLosses(_ file: String, pattern: String) throws -> [Int64: Double] {
        let text = try String(contentsOfFile: "\(Fixtures.root)/\(file)", encoding: .utf8)
        let regex = try NSRegularExpression(pattern: pattern)
        var losses: [Int64: Double] = [:]
        for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let group = { (i: Int) in String(text[Range(match.range(at: i), in: text)!]) }
            losses[Int64(group(1))!] = Double(group(2))!
        }
        return losses
    }

    @Test(arguments: [("trainer-run-f32", "huggingface", "checkpoint-10 holds adapter_model.safetensors"),
                      ("diffusers-run", "diffusers", "checkpoint-10 holds pytorch_lora_weights.safetensors"),
                      ("diffusers-run-text2image", "diffusers", "checkpoint-10 holds pytorch_lora_weights.safetensors"),
                      ("torchtune-run", "torchtune", "epoch_0 holds adapter_model.safetensors")])
    func detectsTheTrainerFromTheFiles(_ run: String, _ layout: String, _ evidence: String) throws {
        let found = try #require(LayoutCatalog.detect(in: "\(Fixtures.root)/\(run)"))
        #expect(found.description.name == layout)
        #expect(found.evidence == evidence)
        #expect(LayoutCatalog.detect(in: dir.path) == nil, "an empty run shows no layout yet")
    }

    @Test func diffusersStepsLossesAndOutput() throws {
        let layout = DiffusersLayout()
        let run = try RunDirectory.scan("\(Fixtures.root)/diffusers-run", layout: layout)
        #expect(run.checkpoints.map(\.step) == [10, 20, 30, 40])
        let printed = try Self.printedLosses("diffusers-run.stdout", pattern: #"step (\d+) epoch \d+ train_loss ([0-9.]+)"#)
        for ref in run.checkpoints {
            let checkpoint = try Checkpoint.load(ref, layout: layout)
            // The script prints 4 decimals; TensorBoard holds the F32 value.
            #expect(abs(try #require(checkpoint.value(of: .trainLoss)) - printed[ref.step]!) < 5e-5, "\(ref.name)")
            #expect(checkpoint.format == .diffusers && checkpoint.configPath == nil)
        }
        #expect(layout.output == OutputProposal(adapterFile: "pytorch_lora_weights.safetensors", configFile: nil))
        #expect(layout.takeLogProblems() == [])
    }

    /// diffusers writes the weights to a temporary name and renames them into place,
    /// then accelerate's optimizer, scheduler and RNG files: complete at the rename,
    /// once the loss of the step is in the log.
    @Test func diffusersIsCompleteOnceTheWeightsAreRenamedIntoPlace() throws {
        let source = "\(Fixtures.root)/diffusers-run"
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: "\(run)/checkpoint-40", withIntermediateDirectories: true)
        let layout = DiffusersLayout()
        let folder = "\(run)/checkpoint-40"
        let weights = try Data(contentsOf: URL(fileURLWithPath: "\(source)/checkpoint-40/pytorch_lora_weights.safetensors"))
        try weights.write(to: URL(fileURLWithPath: "\(folder)/tmpabc.safetensors"))
        #expect(layout.completion(of: folder, now: Date(), settleTime: 10) == .waiting("pytorch_lora_weights.safetensors was not written yet"))
        #expect(rename("\(folder)/tmpabc.safetensors", "\(folder)/pytorch_lora_weights.safetensors") == 0)
        // No log yet: waited for, for the settle time.
        #expect(layout.completion(of: folder, now: Date(), settleTime: 10) == .waiting("the train_loss of step 40 was not in logs/ yet"))
        #expect(layout.completion(of: folder, now: Date().addingTimeInterval(11), settleTime: 10) == .complete(metricsFile: nil))
        try FileManager.default.copyItem(atPath: "\(source)/logs", toPath: "\(run)/logs")
        #expect(layout.completion(of: folder, now: Date(), settleTime: 10) == .complete(metricsFile: nil))
        #expect(layout.retainedFiles(metricsFile: nil) == ["pytorch_lora_weights.safetensors"])
    }

    @Test func torchtuneStepsLossesAndOutput() throws {
        let layout = TorchtuneLayout()
        let root = "\(Fixtures.root)/torchtune-run"
        let run = try RunDirectory.scan(root, layout: layout)
        #expect(run.checkpoints.map(\.step) == [10, 20, 30, 40], "epoch_N is step (N + 1) × max_steps_per_epoch")
        #expect(run.checkpoints.map(\.name) == ["epoch_0", "epoch_1", "epoch_2", "epoch_3"])
        // The DiskLogger's loss against torchtune's TensorBoard logger's, two writers of one value.
        let events = LoggedMetrics(tag: "loss")
        for ref in run.checkpoints {
            let checkpoint = try Checkpoint.load(ref, layout: layout)
            let disk = try #require(checkpoint.value(of: .trainLoss))
            let board = try #require(events.state(ofRun: root, step: ref.step).value(of: .trainLoss, atStep: ref.step))
            #expect(abs(disk - board) < 1e-6 * disk, "\(ref.name): \(disk) vs \(board)")
            #expect(checkpoint.format == .peft && checkpoint.configPath == "\(ref.path)/adapter_config.json")
        }
        #expect(layout.output == OutputProposal(adapterFile: "adapter_model.safetensors", configFile: "adapter_config.json"))
    }

    /// torchtune writes the adapters, then `adapter_config.json`: complete at the config.
    @Test func torchtuneIsCompleteAtItsConfigAndNeedsItsStepsPerEpoch() throws {
        let source = "\(Fixtures.root)/torchtune-run"
        let run = dir.file("run")
        let folder = "\(run)/epoch_1"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let layout = TorchtuneLayout()
        #expect(layout.classify("epoch_1", in: run)
            == .malformed(reason: "its step is not known: \(run)/torchtune_config.yaml sets no max_steps_per_epoch (torchtune names checkpoints by epoch; set max_steps_per_epoch in the recipe's config)"))
        try FileManager.default.copyItem(atPath: "\(source)/torchtune_config.yaml", toPath: "\(run)/torchtune_config.yaml")
        #expect(layout.classify("epoch_1", in: run) == .checkpoint(step: 20))
        #expect(layout.classify("epoch_01", in: run) == .malformed(reason: "epoch number '01' has leading zeros"))
        #expect(layout.classify("checkpoint-20", in: run) == .other)
        for name in ["adapter_model.pt", "adapter_model.safetensors"] {
            try FileManager.default.copyItem(atPath: "\(source)/epoch_1/\(name)", toPath: "\(folder)/\(name)")
            #expect(layout.completion(of: folder, now: Date(), settleTime: 0) == .waiting("adapter_config.json was not written yet"))
        }
        try FileManager.default.copyItem(atPath: "\(source)/epoch_1/adapter_config.json", toPath: "\(folder)/adapter_config.json")
        #expect(layout.completion(of: folder, now: Date(), settleTime: 0) == .complete(metricsFile: nil))
    }

    /// The copy kept of a checkpoint holds its metrics as the log had them.
    @Test func loggedMetricsRoundTripThroughTheRetainedCopy() throws {
        let layout = DiffusersLayout()
        let state = try #require(layout.loggedMetrics(of: "\(Fixtures.root)/diffusers-run/checkpoint-20", step: 20))
        #expect(state.logHistory.count == 20)
        let copy = dir.file("copy")
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try state.encoded().write(to: URL(fileURLWithPath: "\(copy)/\(Checkpoint.logFile)"))
        #expect(try layout.metrics(in: copy) == state)
        let nan = TrainerState(globalStep: 3, logHistory: [.init(step: 3, loss: .nan)])
        #expect(try TrainerState.decode(nan.encoded(), path: "x").logHistory[0].loss?.isNaN == true)
    }

    @Test func autoWaitsUntilAFolderShowsItsTrainerAndRereadsWhatItGuessed() throws {
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: "\(run)/epoch_0", withIntermediateDirectories: true)
        let auto = AutoLayout()
        #expect(auto.classify("epoch_0", in: run) == .checkpoint(step: 0), "a guess, until decided")
        #expect(auto.completion(of: "\(run)/epoch_0", now: Date(), settleTime: 0)
            == .waiting("no trainer's layout recognised yet (watch.layout is auto: no checkpoint folder holds an adapter file mwad knows)"))
        let source = "\(Fixtures.root)/torchtune-run"
        for name in ["adapter_model.safetensors", "adapter_config.json"] {
            try FileManager.default.copyItem(atPath: "\(source)/epoch_0/\(name)", toPath: "\(run)/epoch_0/\(name)")
        }
        try FileManager.default.copyItem(atPath: "\(source)/torchtune_config.yaml", toPath: "\(run)/torchtune_config.yaml")
        #expect(auto.completion(of: "\(run)/epoch_0", now: Date(), settleTime: 0)
            == .waiting("the layout was just decided (torchtune); the folder is read at the next look"))
        #expect(auto.name == "torchtune" && auto.decision?.evidence == "epoch_0 holds adapter_model.safetensors")
        #expect(auto.classify("epoch_0", in: run) == .checkpoint(step: 10))
        #expect(auto.completion(of: "\(run)/epoch_0", now: Date(), settleTime: 0) == .complete(metricsFile: nil))
    }
}
