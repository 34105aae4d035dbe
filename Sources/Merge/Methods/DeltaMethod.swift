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
        name: "delta", help: "the exact weighted average of the members' ΔW = s·B·A, as stacked factors (rank Σ r_i)",
        needs: "plain LoRA adapters with their adapter_config.json (no DoRA, no lora_bias)", hasRunningSum: false,
        config: "rewritten: r and lora_alpha = the summed rank, use_rslora false, rank_pattern/alpha_pattern where ranks differ"
    ) { _ in DeltaMethod() }

    public init() {}

    public var name: String { "delta" }

    public func write(_ inputs: [MergeInput], to output: MergeOutput) throws(MergeError) -> MergeReport {
        let lora = try LoraMerge(method: name, inputs: inputs)
        try lora.write(to: output, shapes: Self.shapes(lora)) { _, factors in Self.stack(factors) }
        return report(lora)
    }

    public func checkMember(_ input: MergeInput, reference: MergeInput?) throws(MergeError) {
        try LinearMethod().checkMember(input, reference: reference)
        try LoraMerge.checkConfig(input, method: name)
        _ = try LoraModules(input.file, member: input.name, method: name)
    }

    public func adapterConfig(for inputs: [MergeInput], report: MergeReport) throws(MergeError) -> Data? {
        inputs.last?.config?.rewritten(report)
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

    /// A' = [c_1·A_1; …; c_N·A_N] (rows), B' = [B_1 … B_N] (columns).
    static func stack(_ factors: [LoraMerge.Factors]) -> LoraMerge.Output {
        let total = factors.map(\.rank).reduce(0, +)
        let inputs = factors[0].a.count / factors[0].rank
        let outputs = factors[0].b.count / factors[0].rank
        var a: [Double] = []
        a.reserveCapacity(total * inputs)
        for member in factors { a.append(contentsOf: member.a.lazy.map { $0 * member.coefficient }) }
        var b = [Double](repeating: 0, count: outputs * total)
        var column = 0
        for member in factors {
            for row in 0..<outputs {
                for j in 0..<member.rank { b[row * total + column + j] = member.b[row * member.rank + j] }
            }
            column += member.rank
        }
        return LoraMerge.Output(a: a, aShape: [total, inputs], b: b, bShape: [outputs, total])
    }
}
