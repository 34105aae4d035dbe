import Daemon
import Foundation
import Ingest
import Ledger
import Logging
import MWADTestKit
import Synchronization
import Testing

/// A trainer layout defined here, not in mwad: `save_<N>/` folders holding a PEFT
/// adapter, its config and `mwad_metrics.json` (written last). One register call, and
/// the daemon detects it, ingests its checkpoints and merges them.
struct SaveFolderLayout: TrainerLayout {
    static let description = LayoutDescription(
        name: "save-folders", trainers: "a test's own loop", checkpoint: "save_<N>/ with adapter_model.safetensors",
        completion: "mwad_metrics.json written", metrics: "mwad_metrics.json", output: "a PEFT folder",
        defaultTag: nil) { _ in SaveFolderLayout() }

    static let evidence: LayoutCatalog.Evidence = { directory, entries in
        entries.sorted().first { name in
            CheckpointName(name, prefix: "save_", noun: "save number") != .other
                && FileManager.default.fileExists(atPath: "\(directory)/\(name)/\(HuggingFaceLayout.adapterFile)")
        }.map { "\($0) holds \(HuggingFaceLayout.adapterFile)" }
    }

    var name: String { Self.description.name }
    func classify(_ name: String, in run: String) -> CheckpointName { CheckpointName(name, prefix: "save_", noun: "save number") }
    var requiredFiles: [String] { [HuggingFaceLayout.adapterFile, HuggingFaceLayout.configFile] }
    var configFile: String? { HuggingFaceLayout.configFile }
    var adapterFormat: AdapterFormat { .peft }
    var metricsFiles: [String] { [Checkpoint.sidecarFile] }
    var output: OutputProposal { OutputProposal(adapterFile: HuggingFaceLayout.adapterFile, configFile: HuggingFaceLayout.configFile) }
    var logFolder: String { "logs" }

    func completion(of folder: String, now: Date, settleTime: TimeInterval) -> Completion {
        FileManager.default.fileExists(atPath: "\(folder)/\(Checkpoint.sidecarFile)")
            ? .complete(metricsFile: Checkpoint.sidecarFile) : .waiting("\(Checkpoint.sidecarFile) was not written yet")
    }

    func metrics(in folder: String) throws(IngestError) -> TrainerState { try MetricsSidecar.load("\(folder)/\(Checkpoint.sidecarFile)") }
    func loggedMetrics(of folder: String, step: Int64) -> TrainerState? { nil }
    func takeLogProblems() -> [String] { [] }
}

@Suite(.serialized) struct RegisteredLayoutTests {
    static let registered: Bool = {
        try? LayoutCatalog.register(SaveFolderLayout.description, evidence: SaveFolderLayout.evidence)
        return true
    }()

    init() { _ = Self.registered }

    @Test func theCatalogTakesItOnceAndNeverAsAuto() {
        #expect(LayoutCatalog.names.contains("save-folders"))
        #expect(throws: LayoutCatalogError.self) { try LayoutCatalog.register(SaveFolderLayout.description, evidence: SaveFolderLayout.evidence) }
        #expect(throws: LayoutCatalogError.self) { try LayoutCatalog.register(HuggingFaceLayout.description, evidence: { _, _ in nil }) }
        var auto = SaveFolderLayout.description
        auto.name = "auto"
        #expect(throws: LayoutCatalogError.self) { try LayoutCatalog.register(auto, evidence: { _, _ in nil }) }
    }

    /// `defaultTag` reaches the layout when `metrics.tag` is not given; a tag given wins.
    @Test func theDefaultTagIsAppliedForTheLayout() throws {
        let seen = Mutex<[String?]>([])
        let description = LayoutDescription(name: "tagged", trainers: "", checkpoint: "", completion: "", metrics: "", output: "",
                                            defaultTag: "loss/step") { source in
            seen.withLock { $0.append(source.tag) }
            return SaveFolderLayout()
        }
        _ = description.make(MetricsSource())
        _ = description.make(MetricsSource(tag: "given"))
        #expect(seen.withLock { $0 } == ["loss/step", "given"])
        let diffusers = try #require(DiffusersLayout.description.make(MetricsSource()) as? DiffusersLayout)
        #expect(diffusers.log.tag == "train_loss")
        let torchtune = try #require(TorchtuneLayout.description.make(MetricsSource(tag: "my_loss")) as? TorchtuneLayout)
        #expect(torchtune.log.tag == "my_loss")
    }

    @Test func theDaemonDetectsIngestsAndMergesIt() async throws {
        let dir = TemporaryDirectory("mwad-layout")
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let daemon = try await VirtualDaemon([
            "watch.directory": run, "output": dir.file("merged"), "state_directory": dir.file("state"),
            "watch.debounce": "0.2", "merge.window": "3", "merge.method": "linear", "merge.weighting": "uniform",
        ])
        #expect(await daemon.start())
        for step in [10, 20, 30, 40] {
            let staging = dir.file("staging-\(step)")
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            for file in [HuggingFaceLayout.adapterFile, HuggingFaceLayout.configFile] {
                try FileManager.default.copyItem(atPath: "\(Fixtures.checkpoint(Fixtures.f32Run, step))/\(file)", toPath: "\(staging)/\(file)")
            }
            try Data(#"{"step": \#(step), "loss": \#(5.0 - Double(step) / 100)}"#.utf8).write(to: URL(fileURLWithPath: "\(staging)/\(Checkpoint.sidecarFile)"))
            try FileManager.default.moveItem(atPath: staging, toPath: "\(run)/save_\(step)")
        }
        // Complete once its files have been quiet for watch.settle_time: time passes.
        let merged = await daemon.advance(by: 1, until: 60) {
            guard let snapshot = daemon.snapshot, let last = snapshot.members.last else { return false }
            return snapshot.checkpoint(id: last.checkpointID)?.step == 40
        }
        #expect(merged)
        await daemon.stop()
        let snapshot = try daemon.ledger.snapshot()
        #expect(snapshot.checkpoints.map(\.step) == [10, 20, 30, 40])
        let losses: [Double?] = snapshot.checkpoints.map(\.trainLoss)
        let expected: [Double?] = [4.9, 4.8, 4.7, 4.6]
        #expect(losses == expected)
        #expect(snapshot.daemon?.layout?.hasPrefix("save-folders (auto: save_10 holds adapter_model.safetensors)") == true,
                "\(snapshot.daemon?.layout ?? "")")
        let weights: [Double] = snapshot.members.map(\.weight)
        #expect(weights.count == 3 && weights.allSatisfy { abs($0 - 1.0 / 3) < 1e-12 }, "\(weights)")
        #expect(FileManager.default.fileExists(atPath: dir.file("merged/adapter_model.safetensors")))
        #expect(FileManager.default.fileExists(atPath: dir.file("merged/adapter_config.json")))
    }
}
