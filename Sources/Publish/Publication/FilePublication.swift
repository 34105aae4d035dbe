import Foundation
import Ingest
import Merge
import SafeTensors
import Settings

/// A merge published as one safetensors file, replaced by rename (``AtomicFile``),
/// touching nothing else in its folder, which may be a UI's LoRA folder or the run
/// directory itself: what users of trainers saving one file per checkpoint (kohya,
/// ai-toolkit) load. The file is its own manifest: ``Provenance/metadata(for:)`` and,
/// under ``manifestKey``, `mwa_merge.json`'s JSON without what is known only once the
/// tensors are written (the method's report and the file's own SHA-256: the ledger and
/// `mwad status` hold those).
public struct FilePublication: PublicationTarget {
    public static let description = PublicationDescription(
        name: "file", help: "one .safetensors file replaced by rename, its manifest in its metadata; the output is that file, or a folder it goes in") { layout in
        FilePublication(layout: layout)
    }

    /// The metadata key of the manifest inside a single-file merge.
    public static let manifestKey = "mwa_merge"

    public let layout: any TrainerLayout

    public init(layout: any TrainerLayout) {
        self.layout = layout
    }

    public var name: String { Self.description.name }

    /// The output when it names a `.safetensors` file, else the layout's adapter file
    /// inside it (so that an output such as a UI's LoRA folder gets `NAME-mwa.safetensors`
    /// and keeps everything else it holds).
    public func target(at output: String) -> String { Self.file(at: output, named: layout.output.adapterFile) }

    public func adapterPath(at output: String) -> String { target(at: output) }

    public func publish(_ plan: MergePlan, to output: String, now: Date, digests: [String]?,
                        writeAdapter: ((MergeOutput) throws(PublishError) -> Void)?) throws(PublishError) -> MergeManifest {
        // The header is written first, so the members' digests are needed before it.
        var manifest = MergeManifest(plan: plan, created: now, digests: digests ?? MemberDigests(plan).wait())
        var metadata = try Provenance.metadata(for: plan)
        metadata[Self.manifestKey] = String(decoding: try manifest.encoded(pretty: false), as: UTF8.self)
        try AtomicFile.replace(target(at: output)) { staging throws(PublishError) in
            let hasher = BackgroundDigest()
            defer { _ = hasher.finalize() }  // ends its thread on every path
            // Not fsynced here: AtomicFile fsyncs it before the rename.
            let adapter = MergeOutput(path: staging, metadata: metadata, sync: false) { hasher.update($0) }
            let report = try MergePublisher.write(plan, to: adapter, writeAdapter: writeAdapter).report
            manifest.report = report == MergeReport() ? nil : report
            manifest.outputSHA256 = hasher.finalize()
        }
        return manifest
    }

    public func isPublished(at output: String) -> Bool { FileManager.default.fileExists(atPath: target(at: output)) }

    /// Replaces the file with the tensors of the adapter in `folder`, its metadata plus
    /// the note's manifest under its key (and ``AtomicFile/markerKey``, which marks the
    /// file as mwad's, safe to replace).
    public func handOver(_ folder: String, to output: String, note: HandOverNote) throws(PublishError) -> String {
        let adapter = ["\(folder)/\(layout.output.adapterFile)", layout.path(of: layout.adapterFile, in: folder)]
            .first(where: FileManager.default.fileExists(atPath:)) ?? "\(folder)/\(layout.output.adapterFile)"
        let target = handOverPath(at: output, note: note)
        let source: SafeTensorsFile
        do { source = try SafeTensorsFile(path: adapter) } catch {
            throw .io(path: adapter, operation: "reading", reason: error.description)
        }
        var metadata = source.metadata ?? [:]
        metadata[AtomicFile.markerKey] = metadata[AtomicFile.markerKey] ?? Provenance.version
        metadata[note.key] = String(decoding: note.manifest, as: UTF8.self)
        try AtomicFile.replace(target) { staging throws(PublishError) in
            do throws(SafeTensorsError) {
                let specs = source.tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
                let writer = try SafeTensorsWriter(path: staging, tensors: specs, metadata: metadata)
                for tensor in writer.layout {
                    try writer.append(source.bytes(of: source.tensor(named: tensor.name)!))
                }
                try writer.finish(sync: false)  // AtomicFile fsyncs it before the rename
            } catch {
                throw .io(path: staging, operation: "writing", reason: error.description)
            }
        }
        withExtendedLifetime(source) {}
        return target
    }

    public func handOverPath(at output: String, note: HandOverNote) -> String { Self.file(at: output, named: note.fileName) }

    /// The file under the layout's adapter name, whatever the output file is called.
    public func freeze(publishedAt output: String, into folder: String) throws {
        try LinkedCopy.make(target(at: output), to: folder, fileName: layout.output.adapterFile)
    }

    /// The file: what such users' scripts load.
    public func evaluatorPath(folder: String, adapter: String) -> String { adapter }

    /// The manifest of the single-file merge at `path`, read from its metadata; nil if
    /// the file cannot be read or holds none.
    public static func manifest(ofFile path: String) -> MergeManifest? {
        guard let text = (try? SafeTensorsHeader.read(path: path))?.metadata?[manifestKey] else { return nil }
        return try? MergeManifest.decode(Data(text.utf8))
    }

    /// `output` when it names a `.safetensors` file, else `name` inside it.
    static func file(at output: String, named name: String) -> String {
        output.hasSuffix(".safetensors") ? output : (output as NSString).appendingPathComponent(name)
    }
}
