import Weigh

/// Where a merge came from, as written into the merged file's `__metadata__`.
public enum Provenance {
    /// mwad's version.
    public static let version = "0.1.0"

    /// `__metadata__` for the merged adapter: `format: pt` (so PEFT and transformers
    /// load it as a PyTorch checkpoint), the tool, and the plan's weighting, penalty,
    /// members and weights (JSON arrays in strings: the map holds strings only).
    public static func metadata(for plan: MergePlan) -> [String: String] {
        [
            "format": "pt",
            "mwad_version": version,
            "mwa_weighting": plan.weighting,
            "mwa_penalty": "\(plan.settings.penalty)",
            "mwa_metric": plan.metric.rawValue,
            "mwa_steps": "[\(plan.members.map { "\($0.checkpoint.step)" }.joined(separator: ","))]",
            "mwa_weights": "[\(plan.members.map { "\($0.weight)" }.joined(separator: ","))]",
        ]
    }
}
