import Foundation

extension TrainerLayout where Self == HuggingFaceLayout {
    /// Hugging Face Trainer (and TRL, axolotl), or any loop writing `mwad_metrics.json`.
    public static var huggingFace: HuggingFaceLayout { HuggingFaceLayout() }
}

/// Hugging Face Trainer's `checkpoint-<step>/` folders: `adapter_model.safetensors`,
/// `adapter_config.json`, …, and `trainer_state.json` written last, so its presence
/// marks the checkpoint complete. A loop without HF Trainer may write
/// `mwad_metrics.json` instead: its checkpoint is complete once nothing in the folder
/// has changed for the settle time. Merges are published as PEFT folders.
public struct HuggingFaceLayout: TrainerLayout {
    /// PEFT's adapter file, as `save_pretrained` names it (torchtune's adapter folders too).
    public static let adapterFile = "adapter_model.safetensors"
    /// PEFT's adapter config.
    public static let configFile = "adapter_config.json"
    /// The Trainer's state, written last into each checkpoint folder: its metrics.
    public static let stateFile = "trainer_state.json"

    public static let description = LayoutDescription(
        name: "huggingface", trainers: "Hugging Face Trainer, TRL, axolotl (or any loop writing mwad_metrics.json)",
        checkpoint: "checkpoint-<step>/ with adapter_model.safetensors and adapter_config.json (PEFT)",
        completion: "trainer_state.json written (it is written last), or mwad_metrics.json and the settle time",
        metrics: "log_history in trainer_state.json (loss, eval_loss), or mwad_metrics.json",
        output: "a PEFT folder: adapter_model.safetensors, adapter_config.json, mwa_merge.json",
        defaultTag: nil) { _ in HuggingFaceLayout() }

    public init() {}

    public var name: String { Self.description.name }

    public func classify(_ name: String, in run: String) -> CheckpointName { CheckpointName(name) }

    public var requiredFiles: [String] { [Self.adapterFile, Self.configFile] }

    public var configFile: String? { Self.configFile }

    public var adapterFormat: AdapterFormat { .peft }

    public var metricsFiles: [String] { [Self.stateFile, Checkpoint.sidecarFile] }

    /// HF Trainer's `logging_dir` default: `<output_dir>/runs/<time>_<host>`.
    public var logFolder: String { "runs" }

    public func completion(of folder: String, now: Date, settleTime: TimeInterval) -> Completion {
        if exists("\(folder)/\(Self.stateFile)") { return .complete(metricsFile: Self.stateFile) }
        guard exists("\(folder)/\(Checkpoint.sidecarFile)") else { return .waiting("\(Self.stateFile) was not written yet") }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let newest = names.compactMap { FileTimes.modified("\(folder)/\($0)") }.max() ?? now
        return now.timeIntervalSince(newest) >= settleTime
            ? .complete(metricsFile: Checkpoint.sidecarFile)
            : .waiting("writes had not settled for \(Int(settleTime)) s (\(Checkpoint.sidecarFile))")
    }

    public func metrics(in folder: String) throws(IngestError) -> TrainerState {
        let sidecar = (folder as NSString).appendingPathComponent(Checkpoint.sidecarFile)
        let state = (folder as NSString).appendingPathComponent(Self.stateFile)
        if !exists(state), exists(sidecar) { return try MetricsSidecar.load(sidecar) }
        guard exists(state) else { throw .missingFile(checkpoint: folder, file: Self.stateFile) }
        return try TrainerState.load(state)
    }

    /// Its checkpoint folders hold a PEFT adapter or a trainer state.
    public static func evidence(in directory: String, entries: [String]) -> String? {
        for name in entries.sorted() where CheckpointName(name) != .other {
            for file in [Self.adapterFile, Self.stateFile, Checkpoint.sidecarFile]
            where FileManager.default.fileExists(atPath: "\(directory)/\(name)/\(file)") {
                return "\(name) holds \(file)"
            }
        }
        return nil
    }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
}
