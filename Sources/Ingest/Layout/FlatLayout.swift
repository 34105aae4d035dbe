import Foundation
import SafeTensors
import Synchronization

/// One file per checkpoint in one folder, as kohya sd-scripts and ostris ai-toolkit
/// save LoRAs (see ``FlatName``): kohya keys (`lora_unet_….lora_down.weight`,
/// `.lora_up.weight`, a scalar `.alpha` per module), written in place by
/// `safetensors.torch.save_file`; `save_last_n_steps` / `max_step_saves_to_keep`
/// delete old files. The step is in the name, or for kohya's epoch files in the
/// metadata (`ss_steps`). The loss is in TensorBoard under `logs/`: `loss/current`
/// (kohya), `loss` (ai-toolkit). Neither trainer is on PyPI: this layout is tested
/// against files laid out exactly as they name and fill them.
public final class FlatLayout: LogReadingLayout {
    /// The adapter's name inside a retained copy (a folder, like every retained copy).
    public static let copyFile = "lora.safetensors"
    /// How long a file named like an epoch checkpoint may go without a readable header
    /// before it is reported (kohya writes the header first, the tensors after it).
    static let headerGrace: TimeInterval = 60

    public static let description = LayoutDescription(
        name: "flat", trainers: "kohya sd-scripts, ostris ai-toolkit",
        checkpoint: "one file per checkpoint: NAME-step00000500.safetensors or NAME-000003.safetensors (kohya; an epoch file's step from ss_steps in its metadata), NAME_000000500.safetensors (ai-toolkit)",
        completion: "the file's safetensors header describing exactly its size (saved in place) and the loss of its step logged (or the settle time passed)",
        metrics: "TensorBoard event files under logs/: loss/current (kohya) or loss (ai-toolkit) (metrics.tag)",
        output: "one file, NAME-mwa.safetensors (kohya keys, .alpha per module; its manifest in its metadata, mwa_merge), replaced by rename, in the output folder (or the output itself when it ends in .safetensors)",
        // The tag is decided per trainer (kohya's loss/current, ai-toolkit's loss).
        defaultTag: nil) { FlatLayout(tag: $0.tag, logdir: $0.logdir) }

    private let kohyaLog: LoggedMetrics
    private let aiToolkitLog: LoggedMetrics
    /// The run's NAME, learned from the first checkpoint file seen: the merge's name.
    private let runName = Mutex<String?>(nil)

    /// `tag` overrides both trainers' default tags; `logdir` is the log folder,
    /// absolute or in the run (kohya's `--logging_dir`, ai-toolkit's `log_dir`), nil for `logs`.
    public init(tag: String? = nil, logdir: String? = nil) {
        kohyaLog = LoggedMetrics(tag: tag ?? "loss/current", folder: logdir ?? "logs")
        aiToolkitLog = LoggedMetrics(tag: tag ?? "loss", folder: logdir ?? "logs")
    }

    public var name: String { Self.description.name }

    public func classify(_ name: String, in run: String) -> CheckpointName {
        guard let flat = FlatName(name) else { return .other }
        runName.withLock { if $0 == nil { $0 = flat.name } }
        switch flat {
        case .kohyaStep(_, let step), .aiToolkitStep(_, let step): return .checkpoint(step: step)
        case .kohyaEpoch: return Self.epochStep(of: "\(run)/\(name)")
        }
    }

    /// The step kohya recorded in an epoch file's metadata.
    static func epochStep(of path: String) -> CheckpointName {
        let header: SafeTensorsHeader
        do { header = try SafeTensorsHeader.read(path: path) } catch {
            // Being written: not yet a checkpoint. Left so: a broken file, said so.
            // (The file's time is the kernel's, so it is compared with the real time.)
            if let time = FileTimes.modified(path), Date().timeIntervalSince(time) < headerGrace { return .other }
            return .malformed(reason: "its step is in its metadata (ss_steps), but the file \(error.rule.explanation)")
        }
        guard let text = header.metadata?["ss_steps"] else {
            return .malformed(reason: "an epoch file without ss_steps in its metadata, so its step is not known; save by steps (save_every_n_steps) instead")
        }
        guard let step = Int64(text), step >= 0 else {
            return .malformed(reason: "ss_steps '\(text)' in its metadata is not a step number")
        }
        return .checkpoint(step: step)
    }

    public var requiredFiles: [String] { [Self.copyFile] }

    public var checkpointsAreFiles: Bool { true }

    /// The trainer's checkpoint is the adapter file itself; a retained copy (a folder)
    /// holds it. A checkpoint gone meanwhile is still named as the file, so that what
    /// is reported missing is the trainer's file, not the copy's name.
    public func path(of file: String, in checkpoint: String) -> String {
        var info = stat()
        let isFolder = lstat(checkpoint, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        return file == Self.copyFile && !isFolder ? checkpoint : "\(checkpoint)/\(file)"
    }

    public var adapterFormat: AdapterFormat { .kohya }

    public var metricsFiles: [String] { [Checkpoint.logFile] }

    /// `NAME-mwa.safetensors`, literally NAME until a checkpoint file has named the run.
    public var output: OutputProposal {
        OutputProposal(adapterFile: "\(runName.withLock { $0 } ?? "NAME")-mwa.safetensors", configFile: nil, publication: "file")
    }

    public func completion(of file: String, now: Date, settleTime: TimeInterval) -> Completion {
        let name = (file as NSString).lastPathComponent
        do { _ = try SafeTensorsHeader.read(path: file) } catch {
            return .waiting("\(name) was not completely written yet (it \(error.rule.explanation))")
        }
        guard let step = step(ofFolder: file) else { return .complete(metricsFile: nil) }
        return log(for: name).completion(step: step, run: (file as NSString).deletingLastPathComponent,
                                         written: FileTimes.modified(file) ?? now, now: now, settleTime: settleTime)
    }

    /// kohya's log first: its folder is where `tensorboard.logdir: auto` writes.
    public var logs: [LoggedMetrics] { [kohyaLog, aiToolkitLog] }

    public func log(for name: String) -> LoggedMetrics {
        FlatName(name)?.isAIToolkit == true ? aiToolkitLog : kohyaLog
    }

    /// The folder holds checkpoint files named as the trainers name them.
    public static func evidence(in directory: String, entries: [String]) -> String? {
        for name in entries.sorted() {
            guard let flat = FlatName(name) else { continue }
            var info = stat()
            guard lstat("\(directory)/\(name)", &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            return "\(name) is \(flat.isAIToolkit ? "an ai-toolkit" : "a kohya") checkpoint file"
        }
        return nil
    }
}
