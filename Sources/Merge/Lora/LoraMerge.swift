import Foundation
import SafeTensors

/// What the exact LoRA methods (``DeltaMethod``, ``SVDMethod``) share: the checks that
/// refuse what they cannot merge exactly, each member's factors and scaling per
/// module, and the writing loop (the LoRA factors from the method, every other tensor
/// averaged linearly).
struct LoraMerge {
    /// One member's factors of one module, in F64, with its weighted scaling w_i·s_i.
    struct Factors {
        var a: [Double]  // [rank, in], row-major
        var b: [Double]  // [out, rank]
        var rank: Int
        var coefficient: Double
    }

    /// The output factors of one module, encoded in the members' dtype (row-major).
    struct Output {
        var a: [UInt8]
        var b: [UInt8]
    }

    let method: String
    let inputs: [MergeInput]
    let modules: LoraModules

    /// Checks `inputs` (same tensors, a plain LoRA adapter with its config each).
    init(method: String, inputs: [MergeInput]) throws(MergeError) {
        guard let reference = inputs.last else { throw .noMembers }
        try LinearMerge.checkCompatible(inputs, reference: reference)
        for input in inputs {
            try Self.checkConfig(input, method: method)
            // B is copied, not summed: a NaN in it is named here, with its member.
            if !input.valuesKnownFinite, let tensor = LinearMerge.firstNonFiniteTensor(in: input.file) {
                throw .nonFinite(tensor: tensor, member: input.name)
            }
        }
        self.method = method
        self.inputs = inputs
        modules = try LoraModules(reference.file, member: reference.name, method: method)
    }

    /// Refuses an adapter whose config says the factors alone do not give ΔW.
    static func checkConfig(_ input: MergeInput, method: String) throws(MergeError) {
        // diffusers' and kohya's files carry their scaling themselves (alpha = rank, or `.alpha`).
        guard input.format == .peft else { return }
        guard let config = input.config else {
            throw .unsupportedAdapter(member: input.name, method: method, reason: "it has no adapter_config.json to read its LoRA scaling from")
        }
        if let type = config.peftType, type != "LORA" {
            throw .unsupportedAdapter(member: input.name, method: method, reason: "its peft_type is \(type), not LORA")
        }
        if config.useDora {
            throw .unsupportedAdapter(member: input.name, method: method,
                                      reason: "it is a DoRA adapter (use_dora): DoRA's magnitude divides by the base weights' column norms, which the adapter does not hold")
        }
        if config.loraBias {
            throw .unsupportedAdapter(member: input.name, method: method, reason: "it has LoRA biases (lora_bias): a bias is added, not multiplied, so the factors cannot carry it")
        }
        if !config.targetParameters.isEmpty {
            throw .unsupportedAdapter(member: input.name, method: method, reason: "it adapts parameters directly (target_parameters), which mwad does not merge exactly")
        }
    }

    /// Each member's factors of `module`, oldest first.
    func factors(_ module: LoraModules.Module) -> [Factors] {
        inputs.map { input in
            let rank = input.file.tensor(named: module.a)!.shape[0]
            let scaling = Self.scaling(input, module, rank: rank)
            return Factors(a: TensorValues.doubles(input.file, module.a), b: TensorValues.doubles(input.file, module.b),
                           rank: rank, coefficient: input.weight * scaling)
        }
    }

    /// The LoRA scaling of `module` in `input`: alpha/r from its kohya `.alpha` tensor,
    /// else from its PEFT config; 1 where the format implies alpha = r (diffusers' files,
    /// kohya's without `.alpha`).
    static func scaling(_ input: MergeInput, _ module: LoraModules.Module, rank: Int) -> Double {
        if let alpha = module.alpha, input.file.tensor(named: alpha) != nil {
            return TensorValues.doubles(input.file, alpha)[0] / Double(rank)
        }
        return input.config?.scaling(module: module.name, rank: rank) ?? 1
    }

    /// The members' ranks of `module`, oldest first.
    func ranks(_ module: LoraModules.Module) -> [Int] {
        inputs.map { $0.file.tensor(named: module.a)!.shape[0] }
    }

    /// Writes every module's factors as `produce` makes them (with the shapes
    /// `shapes` gives from the members' ranks), and every other tensor as the linear
    /// average. A module is computed when its first factor comes up in the file's
    /// order (by name: its A and B are next to each other) and dropped once both are
    /// written, so the memory held is one module's, whatever the adapter's size.
    func write(to output: MergeOutput, shapes: (LoraModules.Module, [Int]) -> (a: [Int], b: [Int]),
               produce: (LoraModules.Module, DType) throws(MergeError) -> Output) throws(MergeError) {
        let reference = inputs.last!
        var byTensor: [String: LoraModules.Module] = [:]
        var byAlpha: [String: LoraModules.Module] = [:]
        for module in modules.modules {
            byTensor[module.a] = module
            byTensor[module.b] = module
            if let alpha = module.alpha { byAlpha[alpha] = module }
        }
        let specs = reference.file.tensors.map { tensor in
            guard let module = byTensor[tensor.name] else { return TensorSpec(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape) }
            let shape = shapes(module, ranks(module))
            return TensorSpec(name: tensor.name, dtype: tensor.dtype, shape: tensor.name == module.a ? shape.a : shape.b)
        }
        let writer = try output.open(specs)
        let workspace = Workspace(chunk: LinearMerge.chunkElements)
        var pending: [String: (output: Output, written: Int)] = [:]
        try withExtendedLifetime(inputs) { () throws(MergeError) in
            for tensor in writer.layout {
                // The output's scaling is 1: a kohya module's alpha is its new rank.
                if let module = byAlpha[tensor.name] {
                    try append(TensorValues.encode([Double(shapes(module, ranks(module)).a[0])], as: tensor.dtype), tensor, to: writer)
                    continue
                }
                guard let module = byTensor[tensor.name] else {
                    if tensor.elementCount > 0 { try LinearMerge.streamAverage(tensor, inputs: inputs, workspace: workspace, writer: writer) }
                    continue
                }
                if pending[module.name] == nil { pending[module.name] = (try produce(module, tensor.dtype), 0) }
                let made = pending[module.name]!.output
                try append(tensor.name == module.a ? made.a : made.b, tensor, to: writer)
                pending[module.name]!.written += 1
                if pending[module.name]!.written == 2 { pending[module.name] = nil }
            }
        }
        try output.finish(writer)
    }

    private func append(_ bytes: [UInt8], _ tensor: TensorInfo, to writer: SafeTensorsWriter) throws(MergeError) {
        guard !bytes.isEmpty else { return }
        guard bytes.withUnsafeBytes({ FiniteCheck.allFinite($0, as: tensor.dtype) }) else {
            throw .nonFinite(tensor: tensor.name, member: nil)
        }
        let failure: SafeTensorsError? = bytes.withUnsafeBytes { raw -> SafeTensorsError? in
            do throws(SafeTensorsError) { try writer.appendChunk(raw) } catch { return error }
            return nil
        }
        if let failure { throw .output(failure) }
    }
}
