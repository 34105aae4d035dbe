import Foundation
import Ingest

/// A retained checkpoint written out as a loadable adapter, byte for byte as the trainer
/// wrote it, with `mwa_export.json` (for a layout of single files, `mwa_export` in the
/// file's metadata) saying which checkpoint it is: `mwad export`, and `eval.keep_newest`
/// after each merge. Atomic; never over what mwad did not make.
public enum CheckpointExport {
    public static let manifestName = "mwa_export.json"

    /// Writes the checkpoint of `step` (from `source`, the trainer's path) retained in
    /// `retained` to `out`: a folder, or for single files the file itself when `out`
    /// ends in `.safetensors`, else the trainer's file name in the folder `out`.
    /// Returns the path written.
    @discardableResult
    public static func write(retained: String, layout: any TrainerLayout, step: Int64, source: String, sha256: String?,
                             to out: String, note: [String: String] = [:]) throws(PublishError) -> String {
        var manifest: [String: Any] = ["step": step, "source": source, "adapter_sha256": sha256 ?? "", "exported_by": "mwad \(MWADVersion.current)"]
        for (key, value) in note { manifest[key] = value }
        let json: Data
        do { json = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) } catch {
            throw .io(path: out, operation: "writing the export manifest", reason: "\(error)")
        }
        let form = layout.output
        let absolute = RunDirectory.absolute(out)
        if form.isFile {
            let target = absolute.hasSuffix(".safetensors") ? absolute : "\(absolute)/\((source as NSString).lastPathComponent)"
            try FilePublisher.publish("\(retained)/\(layout.adapterFile)", to: target, metadata: ["mwa_export": String(decoding: json, as: UTF8.self)])
            return target
        }
        try FolderPublisher.publish(retained, to: absolute, form: form, manifest: json, manifestName: manifestName)
        return absolute
    }
}
