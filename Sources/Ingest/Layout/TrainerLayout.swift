import Foundation

/// How a trainer lays out its output directory: which folders are checkpoints, when
/// one is complete, which of its files mwad keeps, and where its metrics come from.
///
/// `mwad merge` and the daemon read checkpoints only through a layout; supporting
/// another trainer means another conforming type, not changes along the pipeline.
public protocol TrainerLayout: Sendable {
    /// What a folder's name says: a checkpoint and its step, a malformed name, or
    /// something else (including a trainer's staging folders).
    func classify(_ name: String) -> CheckpointName

    /// Files every complete checkpoint has; the first is the adapter.
    var requiredFiles: [String] { get }

    /// The files a checkpoint's metrics may come from, in order of preference.
    var metricsFiles: [String] { get }

    /// Whether the checkpoint in `folder` is complete: the file holding its metrics,
    /// or what is still missing.
    func completion(of folder: String, now: Date, settleTime: TimeInterval) -> Completion

    /// The metrics of the checkpoint in `folder` (the trainer's or a retained copy).
    func metrics(in folder: String) throws(IngestError) -> TrainerState
}

/// Whether a checkpoint folder is ready to be read.
public enum Completion: Sendable, Equatable {
    /// Complete; `metricsFile` names the file its metrics come from.
    case complete(metricsFile: String)
    /// Not yet; the text says what mwad waits for (for logs and `missed` reasons).
    case waiting(String)
}

extension TrainerLayout {
    /// The adapter file's name.
    public var adapterFile: String { requiredFiles[0] }

    /// Every file retained for a checkpoint whose metrics are in `metricsFile`.
    public func retainedFiles(metricsFile: String) -> [String] {
        requiredFiles + [metricsFile]
    }
}

extension TrainerLayout where Self == HuggingFaceLayout {
    /// Hugging Face Trainer (and TRL, axolotl), or any loop writing `mwad_metrics.json`.
    public static var huggingFace: HuggingFaceLayout { HuggingFaceLayout() }
}

/// Hugging Face Trainer's `checkpoint-<step>/` folders: `adapter_model.safetensors`,
/// `adapter_config.json`, …, and `trainer_state.json` written last, so its presence
/// marks the checkpoint complete. A loop without HF Trainer may write
/// `mwad_metrics.json` instead: its checkpoint is complete once nothing in the folder
/// has changed for the settle time.
public struct HuggingFaceLayout: TrainerLayout {
    public init() {}

    public func classify(_ name: String) -> CheckpointName { CheckpointName(name) }

    public var requiredFiles: [String] { [Checkpoint.adapterFile, Checkpoint.configFile] }

    public var metricsFiles: [String] { [Checkpoint.stateFile, Checkpoint.sidecarFile] }

    public func completion(of folder: String, now: Date, settleTime: TimeInterval) -> Completion {
        if exists("\(folder)/\(Checkpoint.stateFile)") { return .complete(metricsFile: Checkpoint.stateFile) }
        guard exists("\(folder)/\(Checkpoint.sidecarFile)") else { return .waiting("\(Checkpoint.stateFile) was not written yet") }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let newest = names.compactMap { FileTimes.modified("\(folder)/\($0)") }.max() ?? now
        return now.timeIntervalSince(newest) >= settleTime
            ? .complete(metricsFile: Checkpoint.sidecarFile)
            : .waiting("writes had not settled for \(Int(settleTime)) s (\(Checkpoint.sidecarFile))")
    }

    public func metrics(in folder: String) throws(IngestError) -> TrainerState {
        let sidecar = (folder as NSString).appendingPathComponent(Checkpoint.sidecarFile)
        let state = (folder as NSString).appendingPathComponent(Checkpoint.stateFile)
        if !exists(state), exists(sidecar) { return try MetricsSidecar.load(sidecar) }
        guard exists(state) else { throw .missingFile(checkpoint: folder, file: Checkpoint.stateFile) }
        return try TrainerState.load(state)
    }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
}

/// `stat(2)` times and sizes, without following nothing but the path given.
public enum FileTimes {
    /// The modification time of `path`, nil when it cannot be stat'ed.
    public static func modified(_ path: String) -> Date? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
    }

    /// The size of `path` in bytes, nil when it cannot be stat'ed.
    public static func size(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }
}
