import Foundation
import SafeTensors

/// Synthetic LoRA adapters of real model shapes: per layer, q, k, v, o, gate, up and
/// down, A [rank, in] and B [out, rank] each.
struct Shape {
    var name: String
    var rank: Int
    var layers: Int
    /// (name, in, out) of each projection.
    var projections: [(String, Int, Int)]

    /// Llama-3-8B, r=16: 32 layers, 41.9M parameters, 160 MiB in F32.
    static let llama8B = Shape(name: "Llama-3-8B r=16", rank: 16, layers: 32, projections: llama(hidden: 4096, kv: 1024, mlp: 14336))

    /// Llama-3-70B, r=64: 80 layers, 839M parameters, 3.1 GiB in F32 (fewer layers to
    /// scale it down; each layer is 40 MiB).
    static func llama70B(layers: Int = 80) -> Shape {
        Shape(name: "Llama-3-70B r=64", rank: 64, layers: layers, projections: llama(hidden: 8192, kv: 1024, mlp: 28672))
    }

    static func llama(hidden: Int, kv: Int, mlp: Int) -> [(String, Int, Int)] {
        [("self_attn.q_proj", hidden, hidden), ("self_attn.k_proj", hidden, kv), ("self_attn.v_proj", hidden, kv),
         ("self_attn.o_proj", hidden, hidden), ("mlp.gate_proj", hidden, mlp), ("mlp.up_proj", hidden, mlp),
         ("mlp.down_proj", mlp, hidden)]
    }

    var specs: [(name: String, shape: [Int])] {
        (0..<layers).flatMap { layer in
            projections.flatMap { name, input, output in
                let prefix = "base_model.model.model.layers.\(layer).\(name)"
                return [("\(prefix).lora_A.weight", [rank, input]), ("\(prefix).lora_B.weight", [output, rank])]
            }
        }
    }

    /// Parameters per layer.
    var layerParameters: Int { projections.reduce(0) { $0 + rank * ($1.1 + $1.2) } }
    var parameters: Int { layers * layerParameters }
}

enum Synthetic {
    /// Writes a checkpoint folder for `step`: adapter (values from `step`), config and a
    /// trainer_state.json logging a loss for it.
    static func checkpoint(_ folder: String, step: Int, dtype: DType, shape: Shape = .llama8B) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try adapter("\(folder)/adapter_model.safetensors", seed: step, dtype: dtype, shape: shape)
        try "{\"peft_type\": \"LORA\", \"r\": \(shape.rank), \"lora_alpha\": \(2 * shape.rank), \"task_type\": \"CAUSAL_LM\"}"
            .write(toFile: "\(folder)/adapter_config.json", atomically: false, encoding: .utf8)
        try state(step: step).write(toFile: "\(folder)/trainer_state.json", atomically: false, encoding: .utf8)
    }

    static func state(step: Int) -> String {
        "{\"global_step\": \(step), \"log_history\": [{\"loss\": \(2 + 10 / Double(step)), \"step\": \(step)}]}"
    }

    static func adapter(_ path: String, seed: Int, dtype: DType, shape: Shape = .llama8B) throws {
        let writer = try SafeTensorsWriter(path: path, tensors: shape.specs.map { TensorSpec(name: $0.name, dtype: dtype, shape: $0.shape) },
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
