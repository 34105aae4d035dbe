import Dispatch
import Foundation
import Synchronization
import Ingest
import Merge
import SafeTensors
import Weigh

/// Merges a plan's members and publishes the result atomically as a PEFT adapter
/// folder: `adapter_model.safetensors`, `adapter_config.json` (the newest member's)
/// and `mwa_merge.json`.
public enum MergePublisher {
    /// Publishes `plan` at `output`; returns the manifest written. On failure the
    /// previous output is left as it was. `writeAdapter` writes the merged adapter
    /// (given its path and header metadata) where the caller merges otherwise than
    /// by ``LinearMerge`` (the daemon's running window sum).
    @discardableResult
    public static func publish(_ plan: MergePlan, to output: String, now: Date = Date(), digests: [String]? = nil,
                               writeAdapter: ((_ path: String, _ metadata: [String: String]) throws(PublishError) -> Void)? = nil)
        throws(PublishError) -> MergeManifest {
        // The members are hashed (each on its own core) while the merge streams.
        let hashing = digests == nil ? MemberDigests(plan) : nil
        var manifest: MergeManifest?
        try AtomicDirectory.replace(output) { staging throws(PublishError) in
            let adapter = (staging as NSString).appendingPathComponent(Checkpoint.adapterFile)
            if let writeAdapter {
                try writeAdapter(adapter, Provenance.metadata(for: plan))
            } else {
                try merge(plan, to: adapter)
            }
            var made = MergeManifest(plan: plan, created: now, digests: digests ?? hashing!.wait())
            made.outputSHA256 = try sha256(of: adapter)
            manifest = made
            try copy(plan.newest.checkpoint.configPath, to: (staging as NSString).appendingPathComponent(Checkpoint.configFile))
            try Durable.write(made.encoded(), to: (staging as NSString).appendingPathComponent(AtomicDirectory.marker))
        }
        return manifest!  // set whenever the replace succeeded
    }

    /// Merges with the method the plan's settings name (``MergeMethods``).
    private static func merge(_ plan: MergePlan, to path: String) throws(PublishError) {
        let inputs = plan.members.map { MergeInput(name: $0.checkpoint.name, file: $0.checkpoint.adapter, weight: $0.weight) }
        do {
            try MergeMethods.named(plan.settings.method).write(inputs, to: path, metadata: Provenance.metadata(for: plan))
        } catch {
            throw .merge(error)
        }
    }

    private static func copy(_ source: String, to destination: String) throws(PublishError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: source)) } catch {
            throw .io(path: source, operation: "reading", reason: error.localizedDescription)
        }
        try Durable.write(data, to: destination)
    }

    private static func sha256(of path: String) throws(PublishError) -> String {
        do { return try FileDigest.sha256(ofFile: path) } catch {
            throw .io(path: path, operation: "hashing", reason: error.description)
        }
    }
}

/// The members' SHA-256s, computed in the background from the moment it is made.
final class MemberDigests: Sendable {
    private let group = DispatchGroup()
    private let result = Mutex<[String]>([])

    init(_ plan: MergePlan) {
        DispatchQueue.global().async(group: group) { [self] in
            let digests = MergeManifest.digests(plan)
            result.withLock { $0 = digests }
        }
    }

    func wait() -> [String] {
        group.wait()
        return result.withLock { $0 }
    }
}
