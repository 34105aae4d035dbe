import Foundation
import Ingest
import Merge
import Settings

/// A merge published as a folder, replaced whole (``AtomicDirectory``): the adapter
/// under the layout's own name (for a PEFT folder, `adapter_model.safetensors`), the
/// config where the layout has one (the newest member's, or the method's rewrite of
/// it), and `mwa_merge.json`. What PEFT, diffusers and most trainers' users load.
public struct FolderPublication: PublicationTarget {
    public static let description = PublicationDescription(
        name: "folder", help: "a folder replaced whole: the adapter, its config where the layout has one, mwa_merge.json") { layout in
        FolderPublication(layout: layout)
    }

    public let layout: any TrainerLayout

    public init(layout: any TrainerLayout) {
        self.layout = layout
    }

    public var name: String { Self.description.name }

    public func target(at output: String) -> String { output }

    public func adapterPath(at output: String) -> String { "\(output)/\(layout.output.adapterFile)" }

    public func publish(_ plan: MergePlan, to output: String, now: Date, digests: [String]?,
                        writeAdapter: ((MergeOutput) throws(PublishError) -> Void)?) throws(PublishError) -> MergeManifest {
        let files = layout.output
        // The members are hashed (each on its own core) while the merge streams.
        let hashing = digests == nil ? MemberDigests(plan) : nil
        var manifest: MergeManifest?
        try AtomicDirectory.replace(output) { staging throws(PublishError) in
            let hasher = BackgroundDigest()
            defer { _ = hasher.finalize() }  // ends its thread on every path
            // Not fsynced here: AtomicDirectory fsyncs the whole staging folder.
            let adapter = MergeOutput(path: (staging as NSString).appendingPathComponent(files.adapterFile),
                                      metadata: try Provenance.metadata(for: plan), sync: false) { hasher.update($0) }
            let (report, method, inputs) = try MergePublisher.write(plan, to: adapter, writeAdapter: writeAdapter)
            var made = MergeManifest(plan: plan, created: now, digests: digests ?? hashing!.wait(), report: report)
            made.outputSHA256 = hasher.finalize()
            manifest = made
            if let configFile = files.configFile {
                let config = (staging as NSString).appendingPathComponent(configFile)
                let rewritten: Data?
                do throws(MergeError) { rewritten = try method.adapterConfig(for: inputs, report: report) } catch { throw .merge(error) }
                if let rewritten {
                    try Durable.write(rewritten, to: config)
                } else if let source = plan.newestCheckpoint.configPath {
                    try Durable.write(try Self.read(source), to: config)
                }
            }
            try Durable.write(try made.encoded(), to: (staging as NSString).appendingPathComponent(AtomicDirectory.marker))
        }
        return manifest!  // set whenever the replace succeeded
    }

    public func isPublished(at output: String) -> Bool {
        FileManager.default.fileExists(atPath: "\(output)/\(AtomicDirectory.marker)")
    }

    /// Not the run directory: publishing replaces the output folder whole.
    public func placementProblem(_ output: String, run: String?) -> String? {
        guard let run, RunDirectory.absolute(output) == RunDirectory.absolute(run) else { return nil }
        return "is the run directory itself, and publishing replaces the output folder whole: use e.g. \(run)/mwa-merged"
    }

    /// Replaces `output` with the layout's files in `folder`, its merge manifest when it
    /// has one, and the note's manifest (which also marks `output` as mwad's, safe to
    /// replace next time).
    public func handOver(_ folder: String, to output: String, note: HandOverNote) throws(PublishError) -> String {
        try AtomicDirectory.replace(output, marker: note.manifestFile) { staging throws(PublishError) in
            for name in layout.output.files + [AtomicDirectory.marker] where FileManager.default.fileExists(atPath: "\(folder)/\(name)") {
                try Durable.write(try Self.read("\(folder)/\(name)"), to: "\(staging)/\(name)")
            }
            try Durable.write(note.manifest, to: "\(staging)/\(note.manifestFile)")
        }
        return output
    }

    public func handOverPath(at output: String, note: HandOverNote) -> String { output }

    public func freeze(publishedAt output: String, into folder: String) throws {
        try LinkedCopy.make(output, to: folder)
    }

    public func evaluatorPath(folder: String, adapter: String) -> String { folder }

    private static func read(_ path: String) throws(PublishError) -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .io(path: path, operation: "reading", reason: RunDirectory.reason(error))
        }
    }
}
