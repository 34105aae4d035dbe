import Foundation
import Ingest

/// A retained checkpoint written out as a loadable adapter, byte for byte as the trainer
/// wrote it, with `mwa_export` (`mwa_export.json` beside it, or in a single file's
/// metadata) saying which checkpoint it is: `mwad export`, and `eval.keep_newest`
/// after each merge. Atomic; never over what mwad did not make.
public enum CheckpointExport {
    public static let manifestKey = "mwa_export"

    /// Writes the checkpoint of `step` (from `source`, the trainer's path) retained in
    /// `retained` to `out` through `publication`: a folder, or for single files the file
    /// itself when `out` ends in `.safetensors`, else the trainer's file name in the
    /// folder `out`. Returns the path written.
    @discardableResult
    public static func write(retained: String, publication: any PublicationTarget, step: Int64, source: String, sha256: String?,
                             to out: String, note: [String: String] = [:]) throws(PublishError) -> String {
        var manifest: [String: Any] = ["step": step, "source": source, "adapter_sha256": sha256 ?? "", "exported_by": "mwad \(MWADVersion.current)"]
        for (key, value) in note { manifest[key] = value }
        let json: Data
        do { json = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) } catch {
            throw .io(path: out, operation: "writing the export manifest", reason: "\(error)")
        }
        return try publication.handOver(retained, to: RunDirectory.absolute(out),
                                        note: HandOverNote(key: manifestKey, manifest: json, fileName: (source as NSString).lastPathComponent, step: step))
    }
}
