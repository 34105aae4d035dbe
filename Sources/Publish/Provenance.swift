import Foundation
import Ingest
import Settings

/// Where a merge came from, as written into the merged file's `__metadata__`.
public enum Provenance {
    /// mwad's version (``MWADVersion``).
    public static var version: String { MWADVersion.current }

    /// `__metadata__` for the merged adapter: `format: pt` (so PEFT and transformers
    /// load it as a PyTorch checkpoint), the tool, the settings whole (`mwa_settings`,
    /// JSON: every parameter by its name), the weighting applied, and the members'
    /// steps and weights (JSON arrays in strings: the map holds strings only).
    public static func metadata(for plan: MergePlan) throws(PublishError) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let settings: Data
        do { settings = try encoder.encode(plan.settings) } catch {
            throw .io(path: "mwa_settings", operation: "encoding the merge settings", reason: "\(error)")
        }
        return [
            "format": "pt",
            AtomicFile.markerKey: version,  // also what marks a single-file merge as mwad's
            "mwa_method": plan.settings.method,
            "mwa_settings": String(decoding: settings, as: UTF8.self),
            "mwa_weighting": plan.weighting,
            "mwa_metric": plan.metricName,
            "mwa_steps": "[\(plan.members.map { "\($0.step)" }.joined(separator: ","))]",
            "mwa_weights": "[\(plan.members.map { "\($0.weight)" }.joined(separator: ","))]",
        ]
    }
}
