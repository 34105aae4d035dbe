import Foundation
import Ingest
import Merge
import SafeTensors
import Settings

extension MergePublisher {
    /// The metadata key of the manifest inside a single-file merge.
    public static let manifestKey = "mwa_merge"

    /// Publishes `plan` as the one safetensors file `target`, replaced by rename
    /// (``AtomicFile``). The file is its own manifest: ``Provenance/metadata(for:)`` and,
    /// under ``manifestKey``, `mwa_merge.json`'s JSON without what is known only once
    /// the tensors are written (the method's report and the file's own SHA-256: the
    /// ledger and `mwad status` hold those). The returned manifest has them.
    static func publishFile(_ plan: MergePlan, to target: String, now: Date, digests: [String]?,
                            writeAdapter: ((MergeOutput) throws(PublishError) -> Void)?) throws(PublishError) -> MergeManifest {
        // The header is written first, so the members' digests are needed before it.
        var manifest = MergeManifest(plan: plan, created: now, digests: digests ?? MemberDigests(plan).wait())
        var metadata = Provenance.metadata(for: plan)
        metadata[manifestKey] = String(decoding: manifest.encoded(pretty: false), as: UTF8.self)
        try AtomicFile.replace(target) { staging throws(PublishError) in
            let hasher = BackgroundDigest()
            defer { _ = hasher.finalize() }  // ends its thread on every path
            // Not fsynced here: AtomicFile fsyncs it before the rename.
            let adapter = MergeOutput(path: staging, metadata: metadata, sync: false) { hasher.update($0) }
            let report = try write(plan, to: adapter, writeAdapter: writeAdapter).report
            manifest.report = report == MergeReport() ? nil : report
            manifest.outputSHA256 = hasher.finalize()
        }
        return manifest
    }

    /// Whether a merge is published at `output` in `form`: the folder's manifest, or the file.
    public static func isPublished(at output: String, form: OutputForm) -> Bool {
        FileManager.default.fileExists(atPath: form.isFile ? form.target(at: output) : "\(output)/\(AtomicDirectory.marker)")
    }

    /// The manifest of the single-file merge at `path`, read from its metadata; nil if
    /// the file cannot be read or holds none.
    public static func manifest(ofFile path: String) -> MergeManifest? {
        guard let text = (try? SafeTensorsHeader.read(path: path))?.metadata?[manifestKey] else { return nil }
        return try? MergeManifest.decode(Data(text.utf8))
    }
}
