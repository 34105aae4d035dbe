import Foundation

/// Deletes a checkpoint folder as the trainers do: Python's `shutil.rmtree` (HF
/// Trainer's `save_total_limit`, diffusers' `checkpoints_total_limit`, torchtune's
/// `keep_last_n_checkpoints`) unlinks the files one by one, in directory order, and
/// then removes the empty folder. A reader may look in at any moment between.
public struct FolderDeletion: Sendable {
    /// Names deleted first, in this order; the other files follow in directory order.
    public var first: [String]
    /// Seconds between two files.
    public var pause: Double
    /// Called after each file, e.g. to run a reconciler pass in between.
    public var between: @Sendable (String) -> Void

    public init(first: [String] = [], pause: Double = 0, between: @escaping @Sendable (String) -> Void = { _ in }) {
        self.first = first
        self.pause = pause
        self.between = between
    }

    /// Removes `folder` file by file, then the folder.
    public func remove(_ folder: String) throws {
        let present = try FileManager.default.contentsOfDirectory(atPath: folder)
        let order = first.filter(present.contains) + present.filter { !first.contains($0) }
        for name in order {
            try FileManager.default.removeItem(atPath: "\(folder)/\(name)")
            between(name)
            if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
        }
        try FileManager.default.removeItem(atPath: folder)
    }

    /// Every order of `groups` (each group's files stay together): 24 for four groups.
    public static func orders(of groups: [[String]]) -> [[String]] {
        guard groups.count > 1 else { return groups.isEmpty ? [[]] : [groups[0]] }
        return groups.indices.flatMap { index in
            var rest = groups
            let head = rest.remove(at: index)
            return orders(of: rest).map { head + $0 }
        }
    }

    /// HF Trainer's checkpoint files, grouped by what mwad reads of them: the adapter,
    /// its config, the trainer state (the completion marker), and the rest.
    public static let huggingFaceGroups: [[String]] = [
        ["adapter_model.safetensors"], ["adapter_config.json"], ["trainer_state.json"],
        ["optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin"],
    ]
}
