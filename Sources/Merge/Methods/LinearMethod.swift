import SafeTensors

/// The weighted average of every tensor (``LinearMerge``), with the running window
/// sum (``WindowSum``) as its incremental form. LoRA factors are averaged as
/// parameters, so the merged B·A is not the average of the members' B·A.
public struct LinearMethod: MergeMethod {
    public static let description = MethodDescription(
        name: "linear", help: "the weighted average of every tensor, LoRA factors averaged as parameters",
        needs: "any adapter (every member with the same tensors, dtypes and shapes)", result: .parameterAverage, takesDoRA: true,
        incremental: LinearWindowSum(),
        config: "the newest member's, unchanged",
        when: "DoRA or lora_bias adapters (auto takes it for them), non-LoRA adapters; window: all"
    ) { _ in LinearMethod() }

    public init() {}

    public var name: String { "linear" }

    public func write(_ inputs: [MergeInput], to output: MergeOutput) throws(MergeError) -> MergeReport {
        try LinearMerge.write(inputs, to: output)
        return MergeReport()
    }

    public func checkMember(_ input: MergeInput, reference: MergeInput?) throws(MergeError) {
        if !input.valuesKnownFinite, let tensor = LinearMerge.firstNonFiniteTensor(in: input.file) {
            throw .nonFinite(tensor: tensor, member: input.name)
        }
        if let reference { try LinearMerge.checkCompatible([input], reference: reference) }
    }
}
