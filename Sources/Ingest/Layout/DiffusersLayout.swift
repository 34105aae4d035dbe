import Foundation

/// diffusers' LoRA example scripts (DreamBooth, text-to-image; SimpleTuner writes the
/// same): `checkpoint-<step>/pytorch_lora_weights.safetensors`, written to a temporary
/// name and renamed into place, then accelerate's `optimizer.bin`, `scheduler.bin` and
/// `random_states_0.pkl`. There is no `adapter_config.json`. The loss is `train_loss` in
/// the TensorBoard event files accelerate writes under `logs/<project>/`, flushed at
/// each step before the checkpoint of that step is saved. `checkpoints_total_limit`
/// deletes the oldest folders before each save.
public struct DiffusersLayout: LogReadingLayout {
    public static let weightsFile = "pytorch_lora_weights.safetensors"

    public static let description = LayoutDescription(
        name: "diffusers", trainers: "diffusers' LoRA example scripts (DreamBooth, text-to-image), SimpleTuner",
        checkpoint: "checkpoint-<step>/ with pytorch_lora_weights.safetensors (diffusers keys, both styles)",
        completion: "the weights file renamed into place and the loss of its step logged (or the settle time passed)",
        metrics: "the train_loss scalar in TensorBoard event files under logs/ (metrics.tag)",
        output: "a diffusers folder: pytorch_lora_weights.safetensors, mwa_merge.json",
        defaultTag: defaultTag) { DiffusersLayout(tag: $0.tag, logdir: $0.logdir) }

    /// The TensorBoard tag of the loss the training scripts log.
    public static let defaultTag = "train_loss"

    /// The run's TensorBoard log, read as it grows.
    public let log: LoggedMetrics

    /// `tag`: nil for ``defaultTag``; `logdir`: the log folder, absolute or in the run; nil for `logs`.
    public init(tag: String? = nil, logdir: String? = nil) {
        log = LoggedMetrics(tag: tag ?? Self.defaultTag, folder: logdir ?? "logs")
    }

    public var name: String { Self.description.name }

    public func classify(_ name: String, in run: String) -> CheckpointName { CheckpointName(name) }

    public var requiredFiles: [String] { [Self.weightsFile] }

    public var adapterFormat: AdapterFormat { .diffusers }

    public var metricsFiles: [String] { [Checkpoint.logFile] }

    public func completion(of folder: String, now: Date, settleTime: TimeInterval) -> Completion {
        let weights = "\(folder)/\(Self.weightsFile)"
        guard let written = FileTimes.modified(weights) else { return .waiting("\(Self.weightsFile) was not written yet") }
        guard let step = step(ofFolder: folder) else { return .complete(metricsFile: nil) }
        return log.completion(step: step, run: (folder as NSString).deletingLastPathComponent, written: written, now: now, settleTime: settleTime)
    }

    public func log(for name: String) -> LoggedMetrics { log }

    public var logs: [LoggedMetrics] { [log] }

    /// Its checkpoint folders hold diffusers' weights file.
    public static func evidence(in directory: String, entries: [String]) -> String? {
        for name in entries.sorted() where CheckpointName(name) != .other
            && FileManager.default.fileExists(atPath: "\(directory)/\(name)/\(weightsFile)") {
            return "\(name) holds \(weightsFile)"
        }
        return nil
    }
}
