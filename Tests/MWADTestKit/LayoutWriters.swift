import Foundation
import TensorBoard

/// Writes checkpoints as diffusers' LoRA example scripts do: the loss of every step to
/// TensorBoard (accelerate flushes each log call), and at each save, first the
/// `checkpoints_total_limit` rotation (the oldest folders deleted *before* the save,
/// leaving limit − 1), then `checkpoint-<step>/pytorch_lora_weights.safetensors`
/// written under a temporary name with mode 0600 and renamed into place, then
/// `optimizer.bin`, `scheduler.bin` and `random_states_0.pkl` in place. The files are
/// those of the real fixture run, reused in turn.
public final class DiffusersWriter {
    public let runDirectory: String
    public let totalLimit: Int?
    /// How a rotated folder is deleted; nil: at once, as one call.
    public let deletion: FolderDeletion?
    let source = Fixtures.root + "/diffusers-run"
    private let events: EventWriter
    private var logged: Int = 0

    public init(runDirectory: String, totalLimit: Int?, deletion: FolderDeletion? = nil) throws {
        self.runDirectory = runDirectory
        self.totalLimit = totalLimit
        self.deletion = deletion
        events = try EventWriter(directory: "\(runDirectory)/logs/text2image-fine-tune")
    }

    /// The loss logged at `step`.
    public static func loss(at step: Int) -> Double { 0.5 + 10 / Double(step + 10) }

    public func save(step: Int) throws {
        while logged < step {
            logged += 1
            try events.scalars([("train_loss", Self.loss(at: logged))], step: Int64(logged))
        }
        if let totalLimit {
            let steps = ((try? FileManager.default.contentsOfDirectory(atPath: runDirectory)) ?? [])
                .compactMap { $0.hasPrefix("checkpoint-") ? Int($0.dropFirst("checkpoint-".count)) : nil }.sorted()
            for old in steps.dropLast(max(0, totalLimit - 1)) where steps.count >= totalLimit {
                let folder = "\(runDirectory)/checkpoint-\(old)"
                if let deletion { try deletion.remove(folder) } else { try FileManager.default.removeItem(atPath: folder) }
            }
        }
        let from = "\(source)/checkpoint-\((step / 10 - 1) % 4 * 10 + 10)"
        let folder = "\(runDirectory)/checkpoint-\(step)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = "\(folder)/tmp\(UUID().uuidString.prefix(8)).safetensors"
        let weights = try Data(contentsOf: URL(fileURLWithPath: "\(from)/pytorch_lora_weights.safetensors"))
        guard FileManager.default.createFile(atPath: temporary, contents: weights, attributes: [.posixPermissions: 0o600]),
              rename(temporary, "\(folder)/pytorch_lora_weights.safetensors") == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
        for name in ["optimizer.bin", "scheduler.bin", "random_states_0.pkl"] {
            try Data(contentsOf: URL(fileURLWithPath: "\(from)/\(name)")).write(to: URL(fileURLWithPath: "\(folder)/\(name)"))
        }
    }
}

/// Writes checkpoints as torchtune's LoRA recipes do (with `keep_last_n_checkpoints`,
/// the older epoch folders deleted after the save): the config at the
/// start, a `DiskLogger` line per step, and at each epoch's end `epoch_<N>/` with
/// `adapter_model.pt`, `adapter_model.safetensors`, then `adapter_config.json`,
/// `config.json` and `generation_config.json`. The files are those of the real
/// fixture run (10 steps per epoch), reused in turn.
public final class TorchtuneWriter {
    public let runDirectory: String
    let source = Fixtures.root + "/torchtune-run"
    /// `keep_last_n_checkpoints`; nil keeps every epoch.
    public let keepLast: Int?
    /// How an old epoch folder is deleted; nil: at once, as one call.
    public let deletion: FolderDeletion?
    private let log: FileHandle
    private var logged = 0

    public init(runDirectory: String, keepLast: Int? = nil, deletion: FolderDeletion? = nil) throws {
        self.runDirectory = runDirectory
        self.keepLast = keepLast
        self.deletion = deletion
        try FileManager.default.createDirectory(atPath: "\(runDirectory)/logs", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(source)/torchtune_config.yaml", toPath: "\(runDirectory)/torchtune_config.yaml")
        let path = "\(runDirectory)/logs/log_\(Int(Date().timeIntervalSince1970)).txt"
        FileManager.default.createFile(atPath: path, contents: nil)
        log = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    deinit { try? log.close() }

    public static func loss(at step: Int) -> Double { 2 + 40 / Double(step + 10) }

    /// Saves `epoch_<epoch>` after logging its 10 steps.
    public func save(epoch: Int) throws {
        while logged < (epoch + 1) * 10 {
            logged += 1
            try log.write(contentsOf: Data("Step \(logged) | loss:\(Self.loss(at: logged)) lr:0.03 tokens_per_second_per_gpu:580.1 \n".utf8))
        }
        let from = "\(source)/epoch_\(epoch % 4)"
        let folder = "\(runDirectory)/epoch_\(epoch)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["adapter_model.pt", "adapter_model.safetensors", "adapter_config.json", "config.json", "generation_config.json"] {
            try Data(contentsOf: URL(fileURLWithPath: "\(from)/\(name)")).write(to: URL(fileURLWithPath: "\(folder)/\(name)"))
        }
        if let keepLast, epoch >= keepLast {
            let old = "\(runDirectory)/epoch_\(epoch - keepLast)"
            if let deletion { try deletion.remove(old) } else { try FileManager.default.removeItem(atPath: old) }
        }
    }
}

/// Writes checkpoints as kohya sd-scripts' `train_network.py` does with
/// `save_every_n_steps` and `save_last_n_steps`: the loss of every step to TensorBoard
/// (`loss/current`), and at each save `NAME-step<8 digits>.safetensors` written in place
/// by `safetensors.torch.save_file` (header first, then the tensors, in pieces), then
/// the oldest files beyond `keep` deleted. The files are those of the fixture run.
public final class KohyaWriter {
    public let runDirectory: String
    public let keep: Int?
    let source = Fixtures.root + "/flat-kohya"
    private let events: EventWriter
    private var logged = 0
    private var saved: [String] = []

    public init(runDirectory: String, keep: Int?) throws {
        self.runDirectory = runDirectory
        self.keep = keep
        events = try EventWriter(directory: "\(runDirectory)/logs/pixel20261202/network_train")
    }

    public static func loss(at step: Int) -> Double { 0.3 + 8 / Double(step + 10) }

    public func save(step: Int) throws {
        while logged < step {
            logged += 1
            try events.scalars([("loss/current", Self.loss(at: logged))], step: Int64(logged))
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(source)/pixel-step\(String(format: "%08d", (step / 10 - 1) % 4 * 10 + 10)).safetensors"))
        let name = "pixel-step\(String(format: "%08d", step)).safetensors"
        let path = "\(runDirectory)/\(name)"
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        for start in stride(from: 0, to: bytes.count, by: 64 * 1024) {
            try handle.write(contentsOf: bytes[start..<min(bytes.count, start + 64 * 1024)])
        }
        try handle.close()
        saved.append(name)
        if let keep {
            while saved.count > keep { try FileManager.default.removeItem(atPath: "\(runDirectory)/\(saved.removeFirst())") }
        }
    }
}
