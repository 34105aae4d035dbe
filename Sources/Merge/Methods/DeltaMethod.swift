import Foundation
import SafeTensors

/// The exact average of the members' model changes, ΔW = Σ w_i·s_i·B_i·A_i, kept as
/// LoRA factors by stacking them (PEFT's `cat`): B' = [B_1 … B_N], A' = [c_1·A_1; …;
/// c_N·A_N] with c_i = w_i·s_i and an output scaling of 1, so s'·B'·A' = Σ w_i·s_i·B_i·A_i
/// with no cross terms B_i·A_j. Each module's rank is the sum of the members' ranks;
/// `adapter_config.json` is rewritten (r, lora_alpha, use_rslora, rank_pattern,
/// alpha_pattern) so that PEFT's scaling is 1 everywhere.
public struct DeltaMethod: MergeMethod {
    public static let description = MethodDescription(
        name: "delta", help: "the exact weighted average of the members' ΔW = s·B·A, kept as stacked LoRA factors (rank Σ r_i per module; adapter_config.json rewritten so PEFT's scaling is 1)",
        needs: "plain LoRA adapters with their adapter_config.json (no DoRA, no lora_bias)", result: .exactDelta, takesDoRA: false,
        config: "rewritten: r and lora_alpha = the summed rank, use_rslora false, rank_pattern/alpha_pattern where ranks differ",
        when: "plain LoRA or rsLoRA: it is the model change you mean, no cross terms B_i·A_j; beat linear in every run measured"
    ) { _ in DeltaMethod() }

    public init() {}

    public var name: String { "delta" }

    public func write(_ inputs: [MergeInput], to output: MergeOutput) throws(MergeError) -> MergeReport {
        let lora = try LoraMerge(method: name, inputs: inputs)
        try lora.write(to: output, shapes: Self.shapes(lora)) { module, _ in Self.stackBytes(lora, module) }
        return report(lora)
    }

    public func checkMember(_ input: MergeInput, reference: MergeInput?) throws(MergeError) {
        try LinearMethod().checkMember(input, reference: reference)
        try LoraMerge.checkConfig(input, method: name)
        _ = try LoraModules(input.file, member: input.name, method: name)
    }

    public func adapterConfig(for inputs: [MergeInput], report: MergeReport) throws(MergeError) -> Data? {
        try inputs.last?.config?.rewritten(report)
    }

    static func shapes(_ lora: LoraMerge) -> (LoraModules.Module, [Int]) -> (a: [Int], b: [Int]) {
        let reference = lora.inputs.last!.file
        return { module, ranks in
            let total = ranks.reduce(0, +)
            return ([total, reference.tensor(named: module.a)!.shape[1]], [reference.tensor(named: module.b)!.shape[0], total])
        }
    }

    private func report(_ lora: LoraMerge) -> MergeReport {
        MergeReport(ranks: Dictionary(uniqueKeysWithValues: lora.modules.modules.map { ($0.name, lora.ranks($0).reduce(0, +)) }))
    }

    /// A' = [c_1·A_1; …; c_N·A_N] (rows, each scaled once in its own dtype) and
    /// B' = [B_1 … B_N] (columns: each output row is the members' rows side by side,
    /// copied byte for byte), straight from the members' maps.
    static func stackBytes(_ lora: LoraMerge, _ module: LoraModules.Module) -> LoraMerge.Output {
        let files = lora.inputs.map(\.file)
        let aInfos = files.map { $0.tensor(named: module.a)! }
        let bInfos = files.map { $0.tensor(named: module.b)! }
        let dtype = aInfos[0].dtype
        let size = dtype.size
        var a: [UInt8] = []
        a.reserveCapacity(aInfos.reduce(0) { $0 + $1.dataOffsets.count })
        for (index, input) in lora.inputs.enumerated() {
            let rank = aInfos[index].shape[0]
            let c = input.weight * LoraMerge.scaling(input, module, rank: rank)
            a += Scale.bytes(input.file.bytes(of: aInfos[index]), by: c, dtype: dtype)
        }
        let outputs = bInfos[0].shape[0]
        let ranks = bInfos.map { $0.shape[1] }
        let total = ranks.reduce(0, +)
        var b = [UInt8](repeating: 0, count: outputs * total * size)
        b.withUnsafeMutableBytes { out in
            var column = 0
            for (index, file) in files.enumerated() {
                let source = file.bytes(of: bInfos[index])
                let width = ranks[index] * size
                for row in 0..<outputs {
                    (out.baseAddress! + (row * total + column) * size).copyMemory(from: source.baseAddress! + row * width, byteCount: width)
                }
                column += ranks[index]
            }
        }
        return LoraMerge.Output(a: a, b: b)
    }

    /// The stacked factors in F64: A' row-major `[Σr, in]` (scaled), B' column-major
    /// `[out, Σr]`, as the svd method factorises them.
    static func stackColumnMajor(_ factors: [LoraMerge.Factors]) -> (a: [Double], b: [Double], rank: Int, inputs: Int, outputs: Int) {
        let total = factors.map(\.rank).reduce(0, +)
        let inputs = factors[0].a.count / factors[0].rank
        let outputs = factors[0].b.count / factors[0].rank
        var a: [Double] = []
        a.reserveCapacity(total * inputs)
        for member in factors { a.append(contentsOf: member.a.lazy.map { $0 * member.coefficient }) }
        var b = [Double](repeating: 0, count: outputs * total)
        var column = 0
        for member in factors {
            for j in 0..<member.rank {
                let base = (column + j) * outputs
                for row in 0..<outputs { b[base + row] = member.b[row * member.rank + j] }
            }
            column += member.rank
        }
        return (a, b, total, inputs, outputs)
    }
}

/// c·x for every element of a tensor, rounded once into its own dtype.
enum Scale {
    static func bytes(_ source: UnsafeRawBufferPointer, by c: Double, dtype: DType) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: source.count)
        let count = source.count / dtype.size
        out.withUnsafeMutableBytes { raw in
            switch dtype {
            case .f32:
                let o = raw.bindMemory(to: Float.self)
                let f = Float(c)
                for i in 0..<count { o[i] = source.loadUnaligned(fromByteOffset: i * 4, as: Float.self) * f }
            case .f64:
                for i in 0..<count { raw.storeBytes(of: source.loadUnaligned(fromByteOffset: i * 8, as: Double.self) * c, toByteOffset: i * 8, as: Double.self) }
            case .f16:
                for i in 0..<count {
                    raw.storeBytes(of: Float16(Double(source.loadUnaligned(fromByteOffset: i * 2, as: Float16.self)) * c), toByteOffset: i * 2, as: Float16.self)
                }
            case .bf16:
                for i in 0..<count {
                    let x = Double(BFloat16.float(fromBits: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                    raw.storeBytes(of: BFloat16.bits(from: Float(x * c)), toByteOffset: i * 2, as: UInt16.self)
                }
            }
        }
        return out
    }
}
