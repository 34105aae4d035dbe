import Foundation

/// Replays a recorded trainer run into a directory, file by file in the order HF
/// Trainer writes a checkpoint (adapter, config, optimizer, scheduler, RNG state,
/// trainer_state.json last), deleting old checkpoints like `save_total_limit`.
struct TrainerReplay {
    let source: String
    let target: String
    let saveTotalLimit: Int

    /// The order HF Trainer writes a PEFT checkpoint's files; others go before the last.
    static let writeOrder = ["adapter_model.safetensors", "adapter_config.json", "README.md", "optimizer.pt",
                             "scheduler.pt", "rng_state.pth", "training_args.bin", "trainer_state.json"]

    /// The source's checkpoint folder names, by step.
    func checkpoints() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: source)
            .filter { $0.hasPrefix("checkpoint-") && Int($0.dropFirst("checkpoint-".count)) != nil }
            .sorted { Int($0.dropFirst(11))! < Int($1.dropFirst(11))! }
    }

    /// Writes one checkpoint, then rotates.
    func save(_ name: String) throws {
        let from = "\(source)/\(name)"
        let to = "\(target)/\(name)"
        try FileManager.default.createDirectory(atPath: to, withIntermediateDirectories: true)
        let files = try FileManager.default.contentsOfDirectory(atPath: from)
        let ordered = files.sorted { rank($0) < rank($1) }
        for file in ordered {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(from)/\(file)"))
            try data.write(to: URL(fileURLWithPath: "\(to)/\(file)"))
        }
        try rotate()
    }

    private func rank(_ file: String) -> Int {
        if file == "trainer_state.json" { return Int.max }
        return Self.writeOrder.firstIndex(of: file) ?? Self.writeOrder.count
    }

    private func rotate() throws {
        let present = try FileManager.default.contentsOfDirectory(atPath: target)
            .compactMap { $0.hasPrefix("checkpoint-") ? Int($0.dropFirst("checkpoint-".count)) : nil }.sorted()
        for step in present.dropLast(saveTotalLimit) {
            try FileManager.default.removeItem(atPath: "\(target)/checkpoint-\(step)")
        }
    }
}
