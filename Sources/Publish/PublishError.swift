import Merge

/// Why a merge could not be published. The previous output is untouched in every case.
public enum PublishError: Error, Sendable, CustomStringConvertible {
    /// The output path exists but is not a folder mwad made; it is never replaced.
    case outputNotReplaceable(path: String, reason: String)
    /// A file-system call failed (path, call, errno text).
    case io(path: String, operation: String, reason: String)
    /// The merge itself failed.
    case merge(MergeError)
    /// The merge's rank exceeds `max_rank`, and its SVD cannot be taken (why).
    case cannotCapRank(rank: Int, maxRank: Int, reason: String)

    public var description: String {
        switch self {
        case .outputNotReplaceable(let path, let reason): "\(path): refusing to replace the output: \(reason)"
        case .io(let path, let operation, let reason): "\(path): \(operation) failed: \(reason)"
        case .merge(let error): error.description
        case .cannotCapRank(let rank, let maxRank, let reason):
            "the merge has rank \(rank), above max_rank \(maxRank), and cannot be capped: that takes its SVD, which needs a plain LoRA with its adapter_config.json (\(reason)); raise max_rank to \(rank) or more, or set it to 0"
        }
    }
}
