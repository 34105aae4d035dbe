import Foundation
import SafeTensors

/// The default: the exact ``DeltaMethod`` where it is exact (LoRA, rsLoRA, rank and
/// alpha patterns, modules_to_save, diffusers' and kohya's files), else the parameter
/// average ``LinearMethod`` (DoRA, `lora_bias`, `target_parameters`, a non-LoRA PEFT
/// type, an adapter without its config: anything delta refuses). Decided per merge
/// from the members; what was used, and why where it is not delta, is in the report
/// (``MergeReport/methodUsed``, ``MergeReport/methodReason``) and the file's metadata.
public struct AutoMethod: MergeMethod {
    public static let description = MethodDescription(
        name: "auto", help: "delta where it is exact (LoRA, rsLoRA, rank/alpha patterns), else linear (DoRA, lora_bias, …); what was used is recorded",
        needs: "any adapter", result: .chosen, takesDoRA: true,
        config: "as the method used: rewritten by delta, the newest member's under linear",
        when: "always, unless you compare methods: it merges every adapter, exactly wherever it can (status shows auto → delta, or auto → linear (DoRA))"
    ) { _ in AutoMethod() }

    /// The metadata keys naming the method used and why (absent for delta).
    public static let usedKey = "mwa_method_used", reasonKey = "mwa_method_reason"

    public init() {}

    public var name: String { "auto" }

    /// The method the members take, and why delta cannot take them (nil where it can).
    public static func choose(_ inputs: [MergeInput]) -> (method: any MergeMethod, refusal: MergeError?) {
        for input in inputs {
            do throws(MergeError) {
                try LoraMerge.checkConfig(input, method: "delta")
                _ = try LoraModules(input.file, member: input.name, method: "delta")
            } catch {
                if case .unsupportedAdapter = error { return (LinearMethod(), error) }
                return (DeltaMethod(), nil)  // not a matter of the kind of adapter: delta names it
            }
        }
        return (DeltaMethod(), nil)
    }

    /// A word or two for why (`DoRA`, `lora_bias`): what status shows after `auto → linear`.
    public static func shortReason(_ refusal: MergeError) -> String {
        guard case .unsupportedAdapter(_, _, let reason) = refusal else { return "\(refusal)" }
        if reason.contains("DoRA") { return "DoRA" }
        if reason.contains("lora_bias") { return "lora_bias" }
        if reason.contains("target_parameters") { return "target_parameters" }
        if reason.contains("peft_type") { return reason.replacingOccurrences(of: "its ", with: "") }
        if reason.contains("no adapter_config.json") { return "no adapter_config.json" }
        return "not plain LoRA"
    }

    /// The member and why delta cannot take it, without the advice to use linear (auto does).
    static func detail(_ refusal: MergeError) -> String {
        guard case .unsupportedAdapter(let member, _, let reason) = refusal else { return "\(refusal)" }
        return "\(member): \(reason)"
    }

    public func write(_ inputs: [MergeInput], to output: MergeOutput) throws(MergeError) -> MergeReport {
        let (method, refusal) = Self.choose(inputs)
        var metadata = output.metadata
        metadata[Self.usedKey] = method.name
        if let refusal { metadata[Self.reasonKey] = Self.detail(refusal) }
        let used = MergeOutput(path: output.path, metadata: metadata, sync: output.sync, writeback: output.writeback,
                               overwrite: output.overwrite, observer: output.observer)
        var report = try method.write(inputs, to: used)
        report.methodUsed = method.name
        report.methodReason = refusal.map(Self.shortReason)
        report.methodDetail = refusal.map(Self.detail)
        return report
    }

    public func checkMember(_ input: MergeInput, reference: MergeInput?) throws(MergeError) {
        try LinearMethod().checkMember(input, reference: reference)
    }

    public func adapterConfig(for inputs: [MergeInput], report: MergeReport) throws(MergeError) -> Data? {
        report.methodUsed == "delta" ? try DeltaMethod().adapterConfig(for: inputs, report: report) : nil
    }
}
