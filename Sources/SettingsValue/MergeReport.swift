import Foundation

/// What a merge method made, beyond the tensors: shown in `mwa_merge.json` and status.
public struct MergeReport: Sendable, Equatable, Codable {
    /// The output's most common LoRA rank, where the method changes ranks.
    public var rank: Int?
    /// The modules whose rank differs from ``rank`` (as `rank_pattern` has them).
    public var rankPattern: [String: Int]?
    /// The relative Frobenius error of a truncation, per module and overall
    /// (‖ΔW − ΔW_k‖ / ‖ΔW‖), where the method truncates.
    public var moduleErrors: [String: Double]?
    public var truncationError: Double?
    /// The merge's rank before it was capped to `merge.max_rank` (its truncated SVD
    /// published instead), where it was.
    public var cappedFrom: Int?
    /// The method that made the merge where the settings name `auto` (`delta`, `linear`).
    public var methodUsed: String?
    /// Why `auto` did not use delta, in a word or two (`DoRA`), and in full.
    public var methodReason: String?
    public var methodDetail: String?

    /// `auto → linear (DoRA)`, `auto → delta`; nil where the settings named the method.
    public var methodText: String? {
        methodUsed.map { "auto → \($0)" + (methodReason.map { " (\($0))" } ?? "") }
    }

    public init(ranks: [String: Int]? = nil, moduleErrors: [String: Double]? = nil, truncationError: Double? = nil) {
        if let ranks {
            var counts: [Int: Int] = [:]
            for rank in ranks.values { counts[rank, default: 0] += 1 }
            let common = counts.max { $0.value == $1.value ? $0.key > $1.key : $0.value < $1.value }?.key
            rank = common
            rankPattern = ranks.filter { $0.value != common }
        }
        self.moduleErrors = moduleErrors
        self.truncationError = truncationError
    }

    /// One line for people (`mwad merge`, `mwad status`): the truncation error and its
    /// worst module, or the output rank; nil where the method says nothing.
    public var summary: String? {
        let text = detailSummary
        guard let method = methodText else { return text }
        return text.map { "\(method); \($0)" } ?? method
    }

    private var detailSummary: String? {
        if let truncationError {
            let worst = moduleErrors?.max { $0.value < $1.value }
            let what = cappedFrom.map { "capped from rank \($0) to \(rank ?? 0) (max_rank): SVD, " } ?? "truncated to rank \(rank ?? 0): "
            return what + String(format: "relative error %.3g overall", truncationError)
                + (worst.map { String(format: ", %.3g in %@ (the worst module)", $0.value, $0.key) } ?? "")
        }
        return rank.map { "output rank \($0) per module" + ((rankPattern ?? [:]).isEmpty ? "" : " (others in rank_pattern)") }
    }

    enum CodingKeys: String, CodingKey {
        case rank
        case rankPattern = "rank_pattern"
        case moduleErrors = "module_errors"
        case truncationError = "truncation_error"
        case cappedFrom = "capped_from"
        case methodUsed = "method_used", methodReason = "method_reason", methodDetail = "method_detail"
        // As a decoder converting from snake case (status JSON) hands them over.
        case rankPatternCamel = "rankPattern", moduleErrorsCamel = "moduleErrors", truncationErrorCamel = "truncationError"
        case cappedFromCamel = "cappedFrom"
        case methodUsedCamel = "methodUsed", methodReasonCamel = "methodReason", methodDetailCamel = "methodDetail"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rank = try c.decodeIfPresent(Int.self, forKey: .rank)
        rankPattern = try c.decodeIfPresent([String: Int].self, forKey: .rankPattern)
            ?? c.decodeIfPresent([String: Int].self, forKey: .rankPatternCamel)
        moduleErrors = try c.decodeIfPresent([String: Double].self, forKey: .moduleErrors)
            ?? c.decodeIfPresent([String: Double].self, forKey: .moduleErrorsCamel)
        truncationError = try c.decodeIfPresent(Double.self, forKey: .truncationError)
            ?? c.decodeIfPresent(Double.self, forKey: .truncationErrorCamel)
        cappedFrom = try c.decodeIfPresent(Int.self, forKey: .cappedFrom) ?? c.decodeIfPresent(Int.self, forKey: .cappedFromCamel)
        methodUsed = try c.decodeIfPresent(String.self, forKey: .methodUsed) ?? c.decodeIfPresent(String.self, forKey: .methodUsedCamel)
        methodReason = try c.decodeIfPresent(String.self, forKey: .methodReason) ?? c.decodeIfPresent(String.self, forKey: .methodReasonCamel)
        methodDetail = try c.decodeIfPresent(String.self, forKey: .methodDetail) ?? c.decodeIfPresent(String.self, forKey: .methodDetailCamel)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(rank, forKey: .rank)
        try c.encodeIfPresent(rankPattern, forKey: .rankPattern)
        try c.encodeIfPresent(moduleErrors, forKey: .moduleErrors)
        try c.encodeIfPresent(truncationError, forKey: .truncationError)
        try c.encodeIfPresent(cappedFrom, forKey: .cappedFrom)
        try c.encodeIfPresent(methodUsed, forKey: .methodUsed)
        try c.encodeIfPresent(methodReason, forKey: .methodReason)
        try c.encodeIfPresent(methodDetail, forKey: .methodDetail)
    }
}
