import Foundation
import SafeTensors

/// A complete checkpoint: its metrics read and its adapter validated.
public struct Checkpoint: Sendable {
    /// For trainers that write no `trainer_state.json`: `{"step": …, "loss": …}`.
    public static let sidecarFile = "mwad_metrics.json"
    /// A retained copy's metrics where the run's log holds them (not the folder): the
    /// log as it was when the checkpoint was ingested, in `trainer_state.json`'s form.
    public static let logFile = "mwad_log.json"

    public var ref: CheckpointRef
    public var state: TrainerState
    /// The mapped, validated adapter.
    public var adapter: SafeTensorsFile
    /// The adapter's format (its tensor names and where its scaling is).
    public var format: AdapterFormat
    /// Its PEFT `adapter_config.json`, nil where the layout has none.
    public var configPath: String?

    public var step: Int64 { ref.step }
    public var name: String { ref.name }

    /// Reads the checkpoint at `ref` as `layout` lays it out: its metrics, its
    /// required files (for HF Trainer, `adapter_config.json`: without it no merge could
    /// be loaded by PEFT) and its adapter, validated.
    public static func load(_ ref: CheckpointRef, layout: any TrainerLayout) throws(IngestError) -> Checkpoint {
        let state = try layout.metrics(in: ref.path)
        for file in layout.requiredFiles.dropFirst() { _ = try existing(ref, file, layout) }
        let adapter: SafeTensorsFile
        do { adapter = try SafeTensorsFile(path: try existing(ref, layout.adapterFile, layout)) } catch let error as SafeTensorsError {
            throw .invalidAdapter(error)
        } catch let error as IngestError { throw error } catch {
            throw .unreadable(path: ref.path, reason: "\(error)")
        }
        return Checkpoint(ref: ref, state: state, adapter: adapter, format: layout.adapterFormat, configPath: layout.configPath(in: ref.path))
    }

    /// Reads a folder named by the user, in `given` or else the layout its files show
    /// (HF Trainer's where they show none); its step comes from its name or, failing that, from
    /// `global_step` in its `trainer_state.json`.
    public static func load(folder path: String, layout given: (any TrainerLayout)? = nil) throws(IngestError) -> Checkpoint {
        let path = RunDirectory.absolute(path)
        let name = (path as NSString).lastPathComponent
        let layout = given ?? LayoutCatalog.detect(folder: path)?.make(MetricsSource()) ?? HuggingFaceLayout()
        if case .checkpoint(let step) = layout.classify(name, in: (path as NSString).deletingLastPathComponent) {
            return try load(CheckpointRef(step: step, path: path), layout: layout)
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable(path: path, reason: "no such checkpoint folder or file") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw .unreadable(path: path, reason: "a file not named as a checkpoint (kohya NAME-step00000500.safetensors, ai-toolkit NAME_000000500.safetensors); name a checkpoint folder or such a file")
        }
        let state = try TrainerState.load(try existing(CheckpointRef(step: 0, path: path), HuggingFaceLayout.stateFile, layout))
        guard let step = state.globalStep else { throw .unknownStep(path: path) }
        return try load(CheckpointRef(step: step, path: path), layout: layout)
    }

    /// The checkpoint's value of `metric` (see ``TrainerState/value(of:atStep:smoothing:)``).
    public func value(of metric: Metric?, smoothing: Int = 1) -> Double? {
        state.value(of: metric, atStep: step, smoothing: smoothing)
    }

    /// The value of `metric` with the step it was logged at.
    public func logged(_ metric: Metric?, smoothing: Int = 1) -> (value: Double, step: Int64)? {
        state.logged(metric, atStep: step, smoothing: smoothing)
    }

    /// SHA-256 of the adapter file, hex, from the mapped bytes (no second read).
    public func adapterSHA256() -> String {
        withExtendedLifetime(adapter) { FileDigest.sha256(adapter.fileBytes) }
    }

    private static func existing(_ ref: CheckpointRef, _ file: String, _ layout: any TrainerLayout) throws(IngestError) -> String {
        let path = layout.path(of: file, in: ref.path)
        guard FileManager.default.fileExists(atPath: path) else {
            // A checkpoint that is a file is itself what is missing, not a file inside it.
            if path == ref.path { throw .unreadable(path: path, reason: "no such checkpoint file") }
            throw .missingFile(checkpoint: ref.path, file: file)
        }
        return path
    }
}
