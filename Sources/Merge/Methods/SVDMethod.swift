import Foundation
import SafeTensors
import Weigh

/// The exact weighted ΔW = Σ w_i·s_i·B_i·A_i, truncated to rank k per module: the
/// best rank-k LoRA in the Frobenius norm (Eckart–Young), computed from the stacked
/// factors without forming any `out × in` matrix (``Factorization``), in F64 with
/// LAPACK. The relative error of each module's truncation and of the whole adapter
/// goes into the report (`mwa_merge.json`, `mwad status`). Lossless when k is at least
/// the exact rank (the sum of the members' ranks).
public struct SVDMethod: MergeMethod {
    public static let rankParameter = MergeParameter(
        name: "rank", kind: .integer(0...65_536), defaultValue: .number(0),
        help: "The rank k the svd method keeps per module; 0 = the newest member's rank.", valueName: "K")

    public static let description = MethodDescription(
        name: "svd", help: "the same exact ΔW, truncated to rank k per module (Eckart–Young optimal; LAPACK, loaded when it runs; no out×in matrix formed); its relative error per module and overall is in mwa_merge.json and status",
        parameters: [rankParameter],
        needs: "plain LoRA adapters of linear or embedding layers with their adapter_config.json (no DoRA, no lora_bias)",
        result: .truncatedDelta, takesDoRA: false,
        config: "rewritten: r and lora_alpha = k, use_rslora false, rank_pattern/alpha_pattern where k differs",
        when: "you need the merge at the members' rank (serving limits, smaller file); lossless when k ≥ Σ r_i"
    ) { values in SVDMethod(rank: Int(values.number("rank"))) }

    /// k; 0 for the newest member's rank of each module.
    public var rank: Int

    public init(rank: Int = 0) { self.rank = rank }

    public var name: String { "svd" }

    public func write(_ inputs: [MergeInput], to output: MergeOutput) throws(MergeError) -> MergeReport {
        let lora = try LoraMerge(method: name, inputs: inputs)
        let reference = inputs.last!.file
        var tails: [String: Double] = [:]
        var totals: [String: Double] = [:]
        var ranks: [String: Int] = [:]
        try lora.write(to: output, shapes: { module, memberRanks in
            let k = keep(memberRanks)
            return ([k, reference.tensor(named: module.a)!.shape[1]], [reference.tensor(named: module.b)!.shape[0], k])
        }, produce: { (module, dtype) throws(MergeError) in
            let factors = lora.factors(module)
            let stacked = DeltaMethod.stackColumnMajor(factors)
            let k = keep(factors.map(\.rank))
            let made = try Factorization.truncate(bColumnMajor: stacked.b, aRowMajor: stacked.a, out: stacked.outputs, r: stacked.rank,
                                                  in: stacked.inputs, k: k, module: module.name)
            let squares = made.singularValues.map { $0 * $0 }
            totals[module.name] = squares.reduce(0, +)
            tails[module.name] = squares.dropFirst(k).reduce(0, +)
            ranks[module.name] = k
            return LoraMerge.Output(a: TensorValues.encode(made.a, as: dtype), b: TensorValues.encode(made.b, as: dtype))
        })
        let errors = totals.mapValues { _ in 0.0 }.merging(totals.map { ($0.key, Self.relative(tails[$0.key]!, $0.value)) }) { $1 }
        let overall = Self.relative(tails.values.reduce(0, +), totals.values.reduce(0, +))
        return MergeReport(ranks: ranks, moduleErrors: errors, truncationError: overall)
    }

    public func checkMember(_ input: MergeInput, reference: MergeInput?) throws(MergeError) {
        try DeltaMethod().checkMember(input, reference: reference)
    }

    public func adapterConfig(for inputs: [MergeInput], report: MergeReport) throws(MergeError) -> Data? {
        try inputs.last?.config?.rewritten(report)
    }

    /// k for a module whose members have `ranks` (oldest first).
    private func keep(_ ranks: [Int]) -> Int { rank > 0 ? rank : max(1, ranks.last ?? 1) }

    /// √(tail / total): the relative Frobenius error (0 for a zero ΔW).
    static func relative(_ tail: Double, _ total: Double) -> Double {
        total > 0 ? (max(0, tail) / total).squareRoot() : 0
    }
}
