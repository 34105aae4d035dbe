import Foundation
import SafeTensors

/// A complete checkpoint: its `trainer_state.json` parsed and its adapter validated.
public struct Checkpoint: Sendable {
    public static let adapterFile = "adapter_model.safetensors"
    public static let configFile = "adapter_config.json"
    public static let stateFile = "trainer_state.json"
    /// For trainers that write no `trainer_state.json`: `{"step": …, "loss": …}`.
    public static let sidecarFile = "mwad_metrics.json"

    public var ref: CheckpointRef
    public var state: TrainerState
    /// The mapped, validated adapter.
    public var adapter: SafeTensorsFile

    public var step: Int64 { ref.step }
    public var name: String { ref.name }
    public var configPath: String { (ref.path as NSString).appendingPathComponent(Self.configFile) }

    /// Reads the checkpoint at `ref`. The trainer writes `trainer_state.json` last, so
    /// a checkpoint without it is still being written (or was abandoned). Without
    /// `adapter_config.json` no merge of it could be loaded by PEFT, so it is required too.
    public static func load(_ ref: CheckpointRef, layout: any TrainerLayout = .huggingFace) throws(IngestError) -> Checkpoint {
        let state = try layout.metrics(in: ref.path)
        for file in layout.requiredFiles.dropFirst() { _ = try existing(ref, file) }
        let adapter: SafeTensorsFile
        do { adapter = try SafeTensorsFile(path: try existing(ref, layout.adapterFile)) } catch let error as SafeTensorsError {
            throw .invalidAdapter(error)
        } catch let error as IngestError { throw error } catch {
            throw .unreadable(path: ref.path, reason: "\(error)")
        }
        return Checkpoint(ref: ref, state: state, adapter: adapter)
    }

    /// Reads a folder named by the user; its step comes from its name or, failing
    /// that, from `global_step` in its `trainer_state.json`.
    public static func load(folder path: String) throws(IngestError) -> Checkpoint {
        let path = RunDirectory.absolute(path)
        let name = (path as NSString).lastPathComponent
        if case .checkpoint(let step) = CheckpointName(name) {
            return try load(CheckpointRef(step: step, path: path))
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw .missingFile(checkpoint: path, file: "the folder")
        }
        let state = try TrainerState.load(try existing(CheckpointRef(step: 0, path: path), stateFile))
        guard let step = state.globalStep else { throw .unknownStep(path: path) }
        return try load(CheckpointRef(step: step, path: path))
    }

    /// The checkpoint's value of `metric` (see ``TrainerState/value(of:atStep:smoothing:)``).
    public func value(of metric: Metric, smoothing: Int = 1) -> Double? {
        state.value(of: metric, atStep: step, smoothing: smoothing)
    }

    /// The value of `metric` with the step it was logged at.
    public func logged(_ metric: Metric, smoothing: Int = 1) -> (value: Double, step: Int64)? {
        state.logged(metric, atStep: step, smoothing: smoothing)
    }

    /// SHA-256 of the adapter file, hex, from the mapped bytes (no second read).
    public func adapterSHA256() -> String {
        withExtendedLifetime(adapter) { FileDigest.sha256(adapter.fileBytes) }
    }

    private static func existing(_ ref: CheckpointRef, _ file: String) throws(IngestError) -> String {
        let path = (ref.path as NSString).appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: path) else {
            throw .missingFile(checkpoint: ref.path, file: file)
        }
        return path
    }
}
