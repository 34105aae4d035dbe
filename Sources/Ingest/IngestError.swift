import Foundation
import SafeTensors

/// Why a checkpoint (or a run directory) could not be read.
public enum IngestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The run directory does not exist or cannot be listed.
    case runDirectoryUnreadable(path: String, reason: String)
    /// A file the checkpoint needs is absent (not written yet, or deleted).
    case missingFile(checkpoint: String, file: String)
    /// A file exists but cannot be read.
    case unreadable(path: String, reason: String)
    /// `trainer_state.json` is not what the trainer writes (where, what was wrong).
    case invalidTrainerState(path: String, reason: String)
    /// `adapter_model.safetensors` breaks a rule of the format.
    case invalidAdapter(SafeTensorsError)
    /// A folder given explicitly has no step: its name is not `checkpoint-<step>` and
    /// its `trainer_state.json` has no `global_step`.
    case unknownStep(path: String)

    public var description: String {
        switch self {
        case .runDirectoryUnreadable(let path, let reason): "\(path): cannot read the run directory: \(reason)"
        case .missingFile(let checkpoint, let file):
            "\(checkpoint): \(file) is missing" + (file.hasSuffix(".safetensors") ? Self.pickleHint(checkpoint, file) : "")
        case .unreadable(let path, let reason): "\(path): cannot be read: \(reason)"
        case .invalidTrainerState(let path, let reason): "\(path): \(reason)"
        case .invalidAdapter(let error): error.description
        case .unknownStep(let path):
            "\(path): no step: the folder is not named checkpoint-<step> and trainer_state.json has no global_step"
        }
    }

    /// Where the trainer saved a PyTorch pickle instead: what it is and what to change.
    public static func pickleHint(_ checkpoint: String, _ file: String) -> String {
        let pickle = (file as NSString).deletingPathExtension + ".bin"
        guard FileManager.default.fileExists(atPath: (checkpoint as NSString).appendingPathComponent(pickle)) else { return "" }
        return "; it holds \(pickle), a PyTorch pickle, which mwad does not read: save the adapter as safetensors"
            + " (safe_serialization=True, PEFT's and transformers' default)"
    }
}
