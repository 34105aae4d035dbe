import Foundation
import SafeTensors

/// Adapters of the Llama-3-8B LoRA r=16 shape: 32 layers × q, k, v, o, gate, up, down,
/// A [16, in] and B [out, 16] each; 41.9M parameters, 160 MiB in F32.
enum Synthetic {
    static let rank = 16
    static let layers = 32
    /// (name, in, out) of each projection.
    static let projections: [(String, Int, Int)] = [
        ("self_attn.q_proj", 4096, 4096), ("self_attn.k_proj", 4096, 1024), ("self_attn.v_proj", 4096, 1024),
        ("self_attn.o_proj", 4096, 4096), ("mlp.gate_proj", 4096, 14336), ("mlp.up_proj", 4096, 14336),
        ("mlp.down_proj", 14336, 4096),
    ]

    static var specs: [(name: String, shape: [Int])] {
        (0..<layers).flatMap { layer in
            projections.flatMap { name, input, output in
                let prefix = "base_model.model.model.layers.\(layer).\(name)"
                return [("\(prefix).lora_A.weight", [rank, input]), ("\(prefix).lora_B.weight", [output, rank])]
            }
        }
    }

    /// Writes a checkpoint folder for `step`: adapter (values from `step`), config and a
    /// trainer_state.json logging a loss for it.
    static func checkpoint(_ folder: String, step: Int, dtype: DType) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try adapter("\(folder)/adapter_model.safetensors", seed: step, dtype: dtype)
        try #"{"peft_type": "LORA", "r": 16, "lora_alpha": 32, "task_type": "CAUSAL_LM"}"#
            .write(toFile: "\(folder)/adapter_config.json", atomically: false, encoding: .utf8)
        try state(step: step).write(toFile: "\(folder)/trainer_state.json", atomically: false, encoding: .utf8)
    }

    static func state(step: Int) -> String {
        "{\"global_step\": \(step), \"log_history\": [{\"loss\": \(2 + 10 / Double(step)), \"step\": \(step)}]}"
    }

    static func adapter(_ path: String, seed: Int, dtype: DType) throws {
        let writer = try SafeTensorsWriter(path: path, tensors: specs.map { TensorSpec(name: $0.name, dtype: dtype, shape: $0.shape) },
                                           metadata: ["format": "pt"])
        var state = UInt32(truncatingIfNeeded: seed &* 2_654_435_761) | 1
        for info in writer.layout {
            let count = info.elementCount
            let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: count * dtype.size, alignment: 16)
            defer { bytes.deallocate() }
            for i in 0..<count {
                state = state &* 1_664_525 &+ 1_013_904_223
                let value = Float(Int32(bitPattern: state) >> 8) / Float(1 << 23) * 0.02
                if dtype == .bf16 {
                    bytes.storeBytes(of: BFloat16.bits(from: value), toByteOffset: i * 2, as: UInt16.self)
                } else {
                    bytes.storeBytes(of: value, toByteOffset: i * 4, as: Float.self)
                }
            }
            try writer.append(UnsafeRawBufferPointer(bytes))
        }
        try writer.finish()
    }
}
