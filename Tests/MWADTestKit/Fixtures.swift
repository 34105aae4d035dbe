import Foundation

/// The real trainer output and reference merges copied from the project's shared
/// fixtures into `Tests/Fixtures` (see its README).
public enum Fixtures {
    /// `Tests/Fixtures`.
    public static let root: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").path
    }()

    /// A real HF Trainer + PEFT run with F32 adapters (checkpoints 10…80).
    public static var f32Run: String { root + "/trainer-run-f32" }
    /// A real run with BF16 adapters (checkpoints 10…60).
    public static var bf16Run: String { root + "/trainer-run-bf16" }

    /// The checkpoint folder of `run` at `step`.
    public static func checkpoint(_ run: String, _ step: Int) -> String { "\(run)/checkpoint-\(step)" }

    /// The adapter file of `run` at `step`.
    public static func adapter(_ run: String, _ step: Int) -> String {
        checkpoint(run, step) + "/adapter_model.safetensors"
    }

    /// The names of the reference merges in `expected/`.
    public static var referenceMerges: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/expected")) ?? []
        return names.sorted()
    }
}

/// A reference merge's `weights.json`.
public struct ReferenceWeights: Decodable, Sendable {
    public struct Member: Decodable, Sendable {
        public var step: Int64
        public var metric: Double
        public var weight: Double
    }

    public var window: Int
    public var weighting: String
    public var penalty: Double
    public var checkpoints: [Member]

    public static func load(_ name: String) throws -> ReferenceWeights {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(Fixtures.root)/expected/\(name)/weights.json"))
        return try JSONDecoder().decode(ReferenceWeights.self, from: data)
    }
}
