import Foundation

/// torchtune's LoRA recipes (0.6): `epoch_<N>/` folders, zero-based, saved at each
/// epoch's end: `adapter_model.safetensors` (PEFT keys), `adapter_model.pt`
/// (torchtune's keys), then a minimal `adapter_config.json`. The folder names an
/// epoch, not a step: the step is (N + 1) · `max_steps_per_epoch` from the run's
/// `torchtune_config.yaml`. The loss is in `DiskLogger`'s `logs/log_<unixtime>.txt`
/// (or, with only its TensorBoard logger, in event files under `logs/`).
public struct TorchtuneLayout: LogReadingLayout {
    public static let configYAML = "torchtune_config.yaml"

    public static let description = LayoutDescription(
        name: "torchtune", trainers: "torchtune LoRA recipes (lora_finetune_single_device, distributed)",
        checkpoint: "epoch_<N>/ with adapter_model.safetensors (PEFT keys); step = (N+1) × max_steps_per_epoch (torchtune_config.yaml)",
        completion: "adapter_config.json written (it is written after the adapter)",
        metrics: "the loss in DiskLogger's logs/log_<time>.txt, else TensorBoard event files under logs/ (metrics.tag)",
        output: "a PEFT folder: adapter_model.safetensors, adapter_config.json, mwa_merge.json",
        defaultTag: defaultTag) { TorchtuneLayout(tag: $0.tag, logdir: $0.logdir) }

    /// The key of the loss in DiskLogger's lines and TensorBoard.
    public static let defaultTag = "loss"

    public let log: LoggedMetrics

    /// `tag`: nil for ``defaultTag``; `logdir`: the log folder, absolute or in the run; nil for `logs`.
    public init(tag: String? = nil, logdir: String? = nil) {
        log = LoggedMetrics(tag: tag ?? Self.defaultTag, folder: logdir ?? "logs", readsDiskLogger: true)
    }

    public var name: String { Self.description.name }

    public func classify(_ name: String, in run: String) -> CheckpointName {
        guard case .checkpoint(let epoch) = CheckpointName(name, prefix: "epoch_", noun: "epoch number") else {
            return CheckpointName(name, prefix: "epoch_", noun: "epoch number")
        }
        guard let perEpoch = Self.stepsPerEpoch(run: run) else {
            return .malformed(reason: "its step is not known: \(run)/\(Self.configYAML) sets no max_steps_per_epoch "
                + "(torchtune names checkpoints by epoch; set max_steps_per_epoch in the recipe's config)")
        }
        let (step, overflow) = (epoch + 1).multipliedReportingOverflow(by: perEpoch)
        return overflow ? .malformed(reason: "epoch \(epoch) × \(perEpoch) steps does not fit in a 64-bit integer") : .checkpoint(step: step)
    }

    public var requiredFiles: [String] { [HuggingFaceLayout.adapterFile, HuggingFaceLayout.configFile] }

    public var configFile: String? { HuggingFaceLayout.configFile }

    public var adapterFormat: AdapterFormat { .peft }

    public var metricsFiles: [String] { [Checkpoint.logFile] }

    public func completion(of folder: String, now: Date, settleTime: TimeInterval) -> Completion {
        FileManager.default.fileExists(atPath: "\(folder)/\(HuggingFaceLayout.configFile)")
            ? .complete(metricsFile: nil) : .waiting("\(HuggingFaceLayout.configFile) was not written yet")
    }

    public func log(for name: String) -> LoggedMetrics { log }

    public var logs: [LoggedMetrics] { [log] }

    /// `max_steps_per_epoch: N` at the top level of the run's config, as torchtune's
    /// metric logger writes it (OmegaConf YAML, one key per line).
    static func stepsPerEpoch(run: String) -> Int64? {
        guard let text = try? String(contentsOfFile: "\(run)/\(configYAML)", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("max_steps_per_epoch:") {
            return Int64(line.dropFirst("max_steps_per_epoch:".count).trimmingCharacters(in: .whitespaces)).flatMap { $0 > 0 ? $0 : nil }
        }
        return nil
    }

    /// Its `epoch_<N>` folders hold a PEFT adapter.
    public static func evidence(in directory: String, entries: [String]) -> String? {
        for name in entries.sorted() where CheckpointName(name, prefix: "epoch_", noun: "epoch number") != .other
            && FileManager.default.fileExists(atPath: "\(directory)/\(name)/\(HuggingFaceLayout.adapterFile)") {
            return "\(name) holds \(HuggingFaceLayout.adapterFile)"
        }
        return nil
    }
}
