import SafeTensors

/// Why members could not be merged.
public enum MergeError: Error, Equatable, Sendable, CustomStringConvertible {
    case noMembers
    /// A tensor one member has and another lacks.
    case tensorMissing(tensor: String, presentIn: String, missingFrom: String)
    case dtypeMismatch(tensor: String, first: String, firstType: DType, second: String, secondType: DType)
    case shapeMismatch(tensor: String, first: String, firstShape: [Int], second: String, secondShape: [Int])
    /// A member's tensor holds NaN or an infinity (`member` names it), or the weighted
    /// sum itself overflowed (`member` is nil).
    case nonFinite(tensor: String, member: String?)
    /// Writing the output failed.
    case output(SafeTensorsError)
    /// Settings name a merge method mwad does not have.
    case unknownMethod(name: String, known: [String])
    /// The method cannot merge this adapter exactly; the reason says why.
    case unsupportedAdapter(member: String, method: String, reason: String)
    /// A member's `adapter_config.json` could not be read.
    case adapterConfig(file: String, reason: String)
    /// A LAPACK routine failed (it should not on finite input).
    case lapack(routine: String, info: Int32, module: String)
    /// LAPACK could not be loaded at run time (what each attempt said).
    case lapackUnavailable(tried: [String])

    public var description: String {
        switch self {
        case .noMembers: "nothing to merge"
        case .tensorMissing(let tensor, let present, let missing):
            "tensor '\(tensor)' is in \(present) but missing from \(missing)"
        case .dtypeMismatch(let tensor, let a, let at, let b, let bt):
            "tensor '\(tensor)' is \(at.rawValue) in \(a) but \(bt.rawValue) in \(b)"
        case .shapeMismatch(let tensor, let a, let ash, let b, let bsh):
            "tensor '\(tensor)' has shape \(ash) in \(a) but \(bsh) in \(b)"
        case .nonFinite(let tensor, let member?): "\(member): tensor '\(tensor)' contains NaN or infinity"
        case .nonFinite(let tensor, nil): "tensor '\(tensor)': the weighted sum overflows"
        case .output(let error): error.description
        case .unknownMethod(let name, let known): "merge method '\(name)' is unknown; known: \(known.joined(separator: ", "))"
        case .unsupportedAdapter(let member, let method, let reason):
            "\(member): the \(method) method cannot merge it exactly: \(reason); use method linear (a parameter average), which merges any adapter"
        case .adapterConfig(let file, let reason): "\(file): \(reason)"
        case .lapack(let routine, let info, let module): "LAPACK \(routine) failed (info \(info)) on module \(module)"
        case .lapackUnavailable(let tried):
            "the svd method needs LAPACK at run time and none could be loaded (\(tried.joined(separator: "; "))); "
                + "install it (Debian/Ubuntu: apt-get install liblapacke; Fedora/RHEL: dnf install lapack), "
                + "set MWAD_LAPACKE to a liblapacke.so.3, or use method delta or linear, which need no LAPACK"
        }
    }
}
