import Foundation
import SafeTensors
import Weigh

/// One way of combining the members' tensors, given their normalised weights.
///
/// `mwad merge`, the daemon and the publisher reach a method only through this
/// protocol and its ``MethodDescription``; `docs/create_a_merge_method.md` says how
/// to add one.
public protocol MergeMethod: Sendable {
    /// The name in settings, manifests and the ledger (`linear`).
    var name: String { get }

    /// Writes the merge of `inputs` to `output`, through the writer that
    /// ``MergeOutput/open(_:)`` makes and ``MergeOutput/finish(_:)`` closes, and says
    /// what it made (ranks, truncation error).
    func write(_ inputs: [MergeInput], to output: MergeOutput) throws(MergeError) -> MergeReport

    /// Checks on ingest that `input` can join a window whose newest member is
    /// `reference` (same tensors, dtypes, shapes, all finite, a kind of adapter the
    /// method merges), so that a bad checkpoint is refused once instead of failing
    /// every later merge.
    func checkMember(_ input: MergeInput, reference: MergeInput?) throws(MergeError)

    /// The `adapter_config.json` of the merge of `inputs`, where the method changes it
    /// (ranks, scaling); nil to carry the newest member's unchanged.
    func adapterConfig(for inputs: [MergeInput], report: MergeReport) throws(MergeError) -> Data?
}

extension MergeMethod {
    public func adapterConfig(for inputs: [MergeInput], report: MergeReport) throws(MergeError) -> Data? { nil }
}

/// What a method's merge is: the promise the conformance suite
/// (`CatalogConformanceTests`) and the real-client check (`check-peft.py`, which reads
/// it from its rendered block) hold each method to.
public enum MergeResult: String, Sendable, CaseIterable {
    /// ΔW is the weighted average of the members' ΔW = s·B·A, exactly.
    case exactDelta = "exact-delta"
    /// That exact ΔW truncated to a rank, its relative error reported (`truncation_error`).
    case truncatedDelta = "truncated-delta"
    /// Every tensor is the weighted average of the members' (for LoRA factors that is
    /// not the average ΔW: it has cross terms B_i·A_j).
    case parameterAverage = "parameter-average"
    /// Another method's, chosen per merge and recorded (`method_used`).
    case chosen
}

/// A merge method as the catalog knows it: its name, one line of help, the parameters
/// it declares, what it needs from the members, what its merge is, its incremental
/// form if it has one, how it treats `adapter_config.json`, and how to make it.
public struct MethodDescription: Sendable {
    public let name: String
    public let help: String
    public let parameters: [MergeParameter]
    /// What its merge is.
    public let result: MergeResult
    /// Whether it merges DoRA adapters (their magnitude vector needs the base weights
    /// to be combined in delta space, which an adapter lacks).
    public let takesDoRA: Bool
    /// What the members must be, in words (`any adapter`, `LoRA pairs: …`).
    public let needs: String
    /// The method's incremental form, where it has one: the daemon may then keep the
    /// window as a running state and update it per checkpoint (``IncrementalMerge``).
    public let incremental: (any IncrementalMerge)?
    /// How it writes `adapter_config.json`, in words.
    public let config: String
    /// When to use it, in a phrase, for the README's table.
    public let when: String
    public let make: @Sendable (ParameterValues) -> any MergeMethod

    public init(name: String, help: String, parameters: [MergeParameter] = [], needs: String, result: MergeResult, takesDoRA: Bool,
                incremental: (any IncrementalMerge)? = nil, config: String, when: String = "", make: @escaping @Sendable (ParameterValues) -> any MergeMethod) {
        self.name = name
        self.help = help
        self.result = result
        self.takesDoRA = takesDoRA
        self.when = when
        self.parameters = parameters
        self.needs = needs
        self.incremental = incremental
        self.config = config
        self.make = make
    }
}

/// The merge methods built into mwad, one line each. The catalog of everything mwad
/// knows (built-in and registered) is `Catalog` in the Settings module.
public enum MergeMethods {
    public static let builtIn: [MethodDescription] = [
        AutoMethod.description,
        LinearMethod.description,
        DeltaMethod.description,
        SVDMethod.description,
    ]
}
