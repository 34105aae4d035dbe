import Foundation

/// Writes checkpoints the way Hugging Face Trainer does, into a run directory: the
/// folder, `adapter_model.safetensors` (in chunks), `adapter_config.json`, the
/// optimizer, scheduler and RNG files, `trainer_state.json` last; then, like
/// `save_total_limit`, deletes the oldest checkpoint folders beyond the limit.
///
/// Adapters and configs are the real ones of a fixture run, reused in turn;
/// `trainer_state.json` logs a loss that falls with the step.
public struct TrainerWriter {
    public let runDirectory: String
    public let source: String
    public let saveTotalLimit: Int?
    /// How a rotated folder is deleted; nil: at once, as one call.
    public let deletion: FolderDeletion?
    /// Another seed: other adapters at the same steps (the fixture's in another turn)
    /// and a loss higher by `seed`/100.
    public let seed: Int
    private let sourceSteps: [Int]

    public init(runDirectory: String, source: String = Fixtures.f32Run, saveTotalLimit: Int? = nil, deletion: FolderDeletion? = nil, seed: Int = 0) {
        self.seed = seed
        self.runDirectory = runDirectory
        self.source = source
        self.saveTotalLimit = saveTotalLimit
        self.deletion = deletion
        let names = (try? FileManager.default.contentsOfDirectory(atPath: source)) ?? []
        sourceSteps = names.compactMap { Int($0.dropFirst("checkpoint-".count)) }.sorted()
    }

    /// The loss logged at `step`.
    public static func loss(at step: Int) -> Double { 2 + 100 / Double(step + 10) }

    /// Writes `checkpoint-<step>`; `pause` seconds between files.
    public func save(step: Int, pause: Double = 0) throws {
        let folder = "\(runDirectory)/checkpoint-\(step)"
        let from = "\(source)/checkpoint-\(sourceSteps[(step / 10 - 1 + seed) % sourceSteps.count])"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try writeInChunks(Data(contentsOf: URL(fileURLWithPath: "\(from)/adapter_model.safetensors")), to: "\(folder)/adapter_model.safetensors")
        for name in ["adapter_config.json", "optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin"] {
            if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
            try Data(contentsOf: URL(fileURLWithPath: "\(from)/\(name)")).write(to: URL(fileURLWithPath: "\(folder)/\(name)"))
        }
        try trainerState(step: step).write(toFile: "\(folder)/trainer_state.json", atomically: false, encoding: .utf8)
        try rotate()
    }

    /// A `trainer_state.json` whose `log_history` logs a loss every 2 steps up to `step`.
    public func trainerState(step: Int) -> String {
        let entries = stride(from: 2, through: step, by: 2).map { "{\"loss\": \(Self.loss(at: $0) + Double(seed) / 100), \"step\": \($0)}" }
        return "{\"global_step\": \(step), \"log_history\": [\(entries.joined(separator: ", "))]}"
    }

    /// Deletes the oldest checkpoints beyond the limit, as the trainer does right after a save.
    public func rotate() throws {
        guard let limit = saveTotalLimit else { return }
        let steps = ((try? FileManager.default.contentsOfDirectory(atPath: runDirectory)) ?? [])
            .compactMap { $0.hasPrefix("checkpoint-") ? Int($0.dropFirst("checkpoint-".count)) : nil }.sorted()
        for step in steps.dropLast(limit) {
            let folder = "\(runDirectory)/checkpoint-\(step)"
            if let deletion { try deletion.remove(folder) } else { try FileManager.default.removeItem(atPath: folder) }
        }
    }

    private func writeInChunks(_ data: Data, to path: String) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var offset = 0
        while offset < data.count {
            let end = min(data.count, offset + 16 * 1024)
            try handle.write(contentsOf: data[offset..<end])
            offset = end
        }
    }
}
