import SafeTensors

/// One way of combining the members' tensors, given their normalised weights.
///
/// `mwad merge`, the daemon and the publisher reach a method only through this
/// protocol and ``MergeMethods``; `docs/create_a_merge_method.md` says how to add one.
public protocol MergeMethod: Sendable {
    /// The name in settings, manifests and the ledger (`linear`).
    var name: String { get }

    /// Writes the merge of `inputs` to `output`, through the writer that
    /// ``MergeOutput/open(_:)`` makes and ``MergeOutput/finish(_:)`` closes.
    func write(_ inputs: [MergeInput], to output: MergeOutput) throws(MergeError)

    /// Checks on ingest that `input` can join a window whose newest member is
    /// `reference` (same tensors, dtypes, shapes, all finite), so that a bad checkpoint
    /// is refused once instead of failing every later merge.
    func checkMember(_ input: MergeInput, reference: MergeInput?) throws(MergeError)

    /// Whether the merge is Σ w_i·θ_i with w_i = g_i / Σ g_j: the daemon may then keep
    /// the window as a running sum (``WindowSum``) and update it per checkpoint.
    var hasRunningSum: Bool { get }
}

/// The merge methods mwad knows, by name.
public enum MergeMethods {
    public static let all: [any MergeMethod] = [LinearMethod()]

    /// The method called `name`.
    public static func named(_ name: String) throws(MergeError) -> any MergeMethod {
        guard let method = all.first(where: { $0.name == name }) else {
            throw .unknownMethod(name: name, known: all.map(\.name))
        }
        return method
    }
}

/// The weighted average of every tensor (``LinearMerge``), with the running window
/// sum (``WindowSum``) as its incremental form.
public struct LinearMethod: MergeMethod {
    public init() {}

    public var name: String { "linear" }
    public var hasRunningSum: Bool { true }

    public func write(_ inputs: [MergeInput], to output: MergeOutput) throws(MergeError) {
        try LinearMerge.write(inputs, to: output)
    }

    public func checkMember(_ input: MergeInput, reference: MergeInput?) throws(MergeError) {
        if !input.valuesKnownFinite, let tensor = LinearMerge.firstNonFiniteTensor(in: input.file) {
            throw .nonFinite(tensor: tensor, member: input.name)
        }
        if let reference { try LinearMerge.checkCompatible([input], reference: reference) }
    }
}
