import SafeTensors

/// An adapter file's tensors sorted into LoRA modules (an A and a B factor each) and
/// the rest (`modules_to_save` copies, trainable tokens), which every method averages
/// linearly. What an exact LoRA method cannot merge is named with its reason.
public struct LoraModules: Sendable {
    /// One LoRA module: ΔW = scaling · B·A, with A `[r, in]` and B `[out, r]`.
    public struct Module: Sendable, Hashable {
        /// The module's name inside the model (`model.layers.0.self_attn.q_proj`).
        public var name: String
        /// The tensor names of its factors.
        public var a: String
        public var b: String
        /// Its scalar alpha tensor (kohya's `.alpha`), where the file holds one.
        public var alpha: String? = nil
    }

    public var modules: [Module]
    /// Tensors that are not LoRA factors.
    public var others: [String]

    /// PEFT's prefix of every saved key (`base_model.model.`), not part of the module name.
    static let prefix = "base_model.model."

    /// Sorts `file`'s tensors; `member` names the adapter in errors. Throws where a
    /// tensor makes an exact LoRA merge impossible: DoRA magnitudes, LoRA biases, a
    /// factor without its pair, or a factor that is not a matrix.
    public init(_ file: SafeTensorsFile, member: String, method: String) throws(MergeError) {
        var modules: [Module] = []
        var others: [String] = []
        let names = Set(file.tensors.map(\.name))
        for tensor in file.tensors {
            let name = tensor.name
            if name.contains("lora_magnitude_vector") {
                throw .unsupportedAdapter(member: member, method: method,
                                          reason: "it is a DoRA adapter ('\(name)'): DoRA's magnitude divides by the base weights' column norms, which the adapter does not hold")
            }
            if name.hasSuffix(".lora_B.bias") {
                throw .unsupportedAdapter(member: member, method: method,
                                          reason: "it has LoRA biases ('\(name)', lora_bias): a bias is added, not multiplied, so the factors cannot carry it")
            }
            guard let (module, kind) = Self.factor(name) else {
                if name.hasSuffix(".alpha"), names.contains(String(name.dropLast(".alpha".count)) + ".lora_down.weight") { continue }
                if name.contains("lora_") {
                    throw .unsupportedAdapter(member: member, method: method, reason: "its tensor '\(name)' is a LoRA tensor of a kind mwad does not know")
                }
                others.append(name)
                continue
            }
            guard kind == "A" else { continue }
            let b = Self.partner(of: name)
            guard names.contains(b) else {
                throw .unsupportedAdapter(member: member, method: method, reason: "'\(name)' has no matching '\(b)'")
            }
            for factor in [name, b] where file.tensor(named: factor)!.shape.count != 2 {
                throw .unsupportedAdapter(member: member, method: method,
                                          reason: "'\(factor)' has shape \(file.tensor(named: factor)!.shape); only matrix factors (linear and embedding layers) merge exactly")
            }
            let aShape = file.tensor(named: name)!.shape, bShape = file.tensor(named: b)!.shape
            guard aShape[0] >= 1, aShape[0] == bShape[1] else {
                throw .unsupportedAdapter(member: member, method: method,
                                          reason: "'\(name)' has shape \(aShape) and '\(b)' \(bShape): a LoRA pair is A [r, in] and B [out, r] with the same r ≥ 1")
            }
            let alpha = String(name.dropLast(".lora_down.weight".count)) + ".alpha"
            if name.hasSuffix(".lora_down.weight"), let info = file.tensor(named: alpha), info.elementCount != 1 {
                throw .unsupportedAdapter(member: member, method: method, reason: "'\(alpha)' has shape \(info.shape); a module's alpha is one number")
            }
            modules.append(Module(name: module, a: name, b: b, alpha: name.hasSuffix(".lora_down.weight") && names.contains(alpha) ? alpha : nil))
        }
        for tensor in file.tensors where Self.factor(tensor.name)?.kind == "B" && !names.contains(Self.partnerA(of: tensor.name)) {
            throw .unsupportedAdapter(member: member, method: method, reason: "'\(tensor.name)' has no matching A factor")
        }
        self.modules = modules
        self.others = others
    }

    /// The names of a module's A and B factors in each format: PEFT's (also diffusers'
    /// text-to-image scripts'), PEFT's embeddings, diffusers' DreamBooth scripts', kohya's.
    static let suffixes = [(".lora_A.weight", ".lora_B.weight"), (".lora_embedding_A", ".lora_embedding_B"),
                           (".lora.down.weight", ".lora.up.weight"), (".lora_down.weight", ".lora_up.weight")]

    /// The module name and `A`/`B` of a LoRA factor's tensor name, nil for other tensors.
    static func factor(_ name: String) -> (module: String, kind: String)? {
        for (a, b) in suffixes {
            for (suffix, kind) in [(a, "A"), (b, "B")] where name.hasSuffix(suffix) {
                var module = String(name.dropLast(suffix.count))
                if module.hasPrefix(prefix) { module.removeFirst(prefix.count) }
                return (module, kind)
            }
        }
        return nil
    }

    static func partner(of a: String) -> String {
        let (suffixA, suffixB) = suffixes.first { a.hasSuffix($0.0) }!
        return String(a.dropLast(suffixA.count)) + suffixB
    }

    static func partnerA(of b: String) -> String {
        let (suffixA, suffixB) = suffixes.first { b.hasSuffix($0.1) }!
        return String(b.dropLast(suffixB.count)) + suffixA
    }
}

/// Reads a tensor's values as F64 (row-major), whatever its dtype.
enum TensorValues {
    static func doubles(_ file: SafeTensorsFile, _ name: String) -> [Double] {
        let info = file.tensor(named: name)!
        let bytes = file.bytes(of: info)
        let count = info.elementCount
        return [Double](unsafeUninitializedCapacity: count) { out, initialized in
            switch info.dtype {
            case .f64: for i in 0..<count { out[i] = bytes.loadUnaligned(fromByteOffset: i * 8, as: Double.self) }
            case .f32: for i in 0..<count { out[i] = Double(bytes.loadUnaligned(fromByteOffset: i * 4, as: Float.self)) }
            case .f16: for i in 0..<count { out[i] = Double(bytes.loadUnaligned(fromByteOffset: i * 2, as: Float16.self)) }
            case .bf16:
                for i in 0..<count { out[i] = Double(BFloat16.float(fromBits: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) }
            }
            initialized = count
        }
    }

    /// `values` stored as `dtype` (F32, F16, BF16 by way of F32).
    static func encode(_ values: [Double], as dtype: DType) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * dtype.size)
        out.withUnsafeMutableBytes { raw in
            values.withUnsafeBufferPointer { Kernels.encode($0.baseAddress!, values.count, scale: 1, as: dtype, into: raw.baseAddress!) }
        }
        return out
    }
}
